#!/bin/sh
# Tools/static-libs.sh DIR — pkg-config files under DIR/pkgconfig that make a SwiftPM build link OpenSSL and GnuTLS
# (with GnuTLS's nettle, hogweed, gmp and libtasn1), and the C++ library the Swift runtime uses, from the
# distribution's own static archives, for `make release`.
#
# Why: a probe is a short process. Loading libssl, libcrypto, libgnutls and GnuTLS's eight dependencies as shared
# objects, and resolving their 6 000 symbol bindings through every object's hash table, took 2 ms of a 16 ms probe;
# linked in, they are resolved once, at link time. The code is the same: Debian's libssl.a and libgnutls.a come
# from the same build of the same version as the shared objects (libssl-dev, libgnutls28-dev). The same holds for
# libstdc++ (the statically linked Swift runtime is C++, and libstdc++.so alone brought 1 700 bindings): GCC's
# libstdc++.a stands in the same folder, which SwiftPM puts before the system's on the link line.
#
# What stays shared: libidn2, libunistring and p11-kit (no static archive in Debian for the last two), libc.
# When an archive is missing, this prints why and exits 1; `make release` then links the shared objects.
set -eu
dir=${1:?usage: static-libs.sh DIR}
libdir=$(pkg-config --variable=libdir openssl)
gnutls_libdir=$(pkg-config --variable=libdir gnutls)
includedir=$(pkg-config --variable=includedir openssl)
gnutls_includedir=$(pkg-config --variable=includedir gnutls)

mkdir -p "$dir/lib" "$dir/pkgconfig"
for name in ssl crypto; do
    [ -f "$libdir/lib$name.a" ] || { echo "static-libs: no $libdir/lib$name.a" >&2; exit 1; }
    ln -sf "$libdir/lib$name.a" "$dir/lib/lib$name.a"
done
for name in gnutls nettle hogweed gmp tasn1; do
    [ -f "$gnutls_libdir/lib$name.a" ] || { echo "static-libs: no $gnutls_libdir/lib$name.a" >&2; exit 1; }
    ln -sf "$gnutls_libdir/lib$name.a" "$dir/lib/lib$name.a"
done
# libunistring2 has no development link (libunistring.so) unless libunistring-dev is installed.
unistring=$(ls "$gnutls_libdir"/libunistring.so.* 2>/dev/null | head -n 1)
[ -n "$unistring" ] || { echo "static-libs: no libunistring.so.* in $gnutls_libdir" >&2; exit 1; }
ln -sf "$unistring" "$dir/lib/libunistring.so"
stdcxx=
for compiler in ${CC:-} cc clang gcc; do
    command -v "$compiler" >/dev/null 2>&1 || continue
    stdcxx=$("$compiler" -print-file-name=libstdc++.a)
    [ -f "$stdcxx" ] && break
done
[ -f "$stdcxx" ] || { echo "static-libs: no libstdc++.a (libstdc++-dev)" >&2; exit 1; }
ln -sf "$stdcxx" "$dir/lib/libstdc++.a"

# Only -L, -l and -I: SwiftPM leaves out (with a warning) any flag of a system library's .pc file outside its
# allow-list.
cat > "$dir/pkgconfig/openssl.pc" <<EOF
Name: OpenSSL
Description: OpenSSL from $libdir, linked statically (Tools/static-libs.sh)
Version: $(pkg-config --modversion openssl)
Libs: -L$dir/lib -lssl -lcrypto
Cflags: -I$includedir
EOF
cat > "$dir/pkgconfig/gnutls.pc" <<EOF
Name: GnuTLS
Description: GnuTLS from $gnutls_libdir, linked statically (Tools/static-libs.sh)
Version: $(pkg-config --modversion gnutls)
Libs: -L$dir/lib -lgnutls -lhogweed -lnettle -lgmp -ltasn1 -lidn2 -lunistring -lp11-kit
Cflags: -I$gnutls_includedir
EOF
