#!/bin/bash
# Installs the real servers and clients used by the interop tier, only those
# that are missing. Safe to run again. The packages' own system services are
# kept from starting: our private instances must never depend on them.
set -u

PKGS=(postfix dovecot-imapd dovecot-pop3d vsftpd slapd ldap-utils nginx openssl gnutls-bin curl)
POLICY=/usr/sbin/policy-rc.d

die() { echo "install.sh: $*" >&2; exit 1; }

[ "$(id -u)" = 0 ] || die "must run as root (apt-get install)"

missing=()
for p in "${PKGS[@]}"; do
    dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
    echo "install.sh: all packages present"
    exit 0
fi
echo "install.sh: installing ${missing[*]}"

# Keep any policy-rc.d the machine already has; put it back afterwards.
backup=""
if [ -e "$POLICY" ]; then
    backup=$(mktemp /tmp/policy-rc.d.XXXXXX) || die "mktemp failed"
    cp -p "$POLICY" "$backup" || die "cannot back up $POLICY"
fi
restore_policy() {
    if [ -n "$backup" ]; then
        cp -p "$backup" "$POLICY" && rm -f "$backup"
    else
        rm -f "$POLICY"
    fi
}
trap restore_policy EXIT
printf '#!/bin/sh\n# temporary: interop install, no service starts\nexit 101\n' >"$POLICY" || die "cannot write $POLICY"
chmod 755 "$POLICY"

export DEBIAN_FRONTEND=noninteractive
debconf-set-selections <<'SEL' || die "debconf-set-selections failed"
postfix postfix/main_mailer_type select No configuration
postfix postfix/mailname string mail.example.test
slapd slapd/no_configuration boolean true
SEL

if [ ! -d /var/lib/apt/lists ] || [ -z "$(ls -A /var/lib/apt/lists 2>/dev/null | grep -v lock)" ]; then
    apt-get update -q || die "apt-get update failed"
fi
if ! apt-get install -y -q --no-install-recommends "${missing[@]}"; then
    echo "install.sh: install failed, refreshing package lists and retrying once" >&2
    apt-get update -q || die "apt-get update failed"
    apt-get install -y -q --no-install-recommends "${missing[@]}" \
        || die "apt-get install ${missing[*]} failed"
fi

for p in "${PKGS[@]}"; do
    dpkg -s "$p" >/dev/null 2>&1 || die "package $p still not installed"
done

# If a system instance started anyway (no policy honoured), stop it. Only the
# daemons' own system pidfiles are used, never a name match.
for pf in /var/spool/postfix/pid/master.pid /run/dovecot/master.pid /run/nginx.pid \
          /run/slapd/slapd.pid /run/vsftpd.pid; do
    if [ -s "$pf" ]; then
        pid=$(tr -dc 0-9 <"$pf")
        if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
            echo "install.sh: stopping system instance pid $pid ($pf)"
            kill "$pid" 2>/dev/null
        fi
    fi
done
echo "install.sh: done"
