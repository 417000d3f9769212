#!/bin/bash
# Installs the real servers and clients used by the interop tier, only those
# that are missing. Safe to run again. The packages' own system services are
# kept from starting: our private instances must never depend on them.
set -u

PKGS=(postfix dovecot-imapd dovecot-pop3d vsftpd slapd ldap-utils nginx openssl gnutls-bin curl)

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

export DEBIAN_FRONTEND=noninteractive
debconf-set-selections <<'SEL' || die "debconf-set-selections failed"
postfix postfix/main_mailer_type select No configuration
postfix postfix/mailname string mail.example.test
slapd slapd/no_configuration boolean true
SEL

. "$(dirname "$0")/apt-quiet.sh"
apt_install_quietly install.sh "${missing[@]}" || exit 1

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
