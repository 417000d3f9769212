# apt_install_quietly NAME PKG...: installs the Debian packages given, none of whose system services may start
# (a temporary /usr/sbin/policy-rc.d that exits 101; one the machine already has is put back). Refreshes the
# package lists when there are none, retries once after refreshing them, and checks every package is there.
# Sourced by install.sh and install-monitors.sh; returns non-zero with a message on failure.
apt_install_quietly() {
    local name=$1
    shift
    local policy=/usr/sbin/policy-rc.d backup="" status=0
    if [ -e "$policy" ]; then
        backup=$(mktemp /tmp/policy-rc.d.XXXXXX) || { echo "$name: mktemp failed" >&2; return 1; }
        cp -p "$policy" "$backup" || { echo "$name: cannot back up $policy" >&2; return 1; }
    fi
    printf '#!/bin/sh\n# temporary: %s, no service starts\nexit 101\n' "$name" >"$policy" \
        && chmod 755 "$policy" || { echo "$name: cannot write $policy" >&2; return 1; }
    export DEBIAN_FRONTEND=noninteractive
    if [ ! -d /var/lib/apt/lists ] || [ -z "$(ls -A /var/lib/apt/lists 2>/dev/null | grep -v lock)" ]; then
        apt-get update -q || status=1
    fi
    if [ $status = 0 ] && ! apt-get install -y -q --no-install-recommends "$@"; then
        echo "$name: install failed, refreshing package lists and retrying once" >&2
        { apt-get update -q && apt-get install -y -q --no-install-recommends "$@"; } || status=1
    fi
    if [ -n "$backup" ]; then cp -p "$backup" "$policy" && rm -f "$backup"; else rm -f "$policy"; fi
    [ $status = 0 ] || { echo "$name: apt-get install $* failed" >&2; return 1; }
    local p
    for p in "$@"; do
        dpkg -s "$p" >/dev/null 2>&1 || { echo "$name: package $p still not installed" >&2; return 1; }
    done
}
