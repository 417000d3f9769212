#!/bin/bash
# Installs the real monitors that `mimic grade` runs against the mock zoo (monitors/*.yaml), only what is
# missing. Safe to run again. Debian packages through apt-get (their system services are kept from starting),
# sslyze from PyPI into its own venv, /opt/mimic-venv, at the version the adapters were proven with.
set -u

PKGS=(monitoring-plugins-basic monitoring-plugins-standard monitoring-plugins-contrib
      prometheus-blackbox-exporter testssl.sh python3-venv)
VENV=/opt/mimic-venv
SSLYZE_VERSION=6.3.1

die() { echo "install-monitors.sh: $*" >&2; exit 1; }
say() { echo "install-monitors.sh: $*"; }

[ "$(id -u)" = 0 ] || die "must run as root (apt-get install, $VENV)"

# --- Debian packages -----------------------------------------------------------------------------------
missing=()
for p in "${PKGS[@]}"; do
    dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
    say "all packages present"
else
    say "installing ${missing[*]}"
    . "$(dirname "$0")/apt-quiet.sh"
    apt_install_quietly install-monitors.sh "${missing[@]}" || exit 1
fi

# If the exporter's system service started anyway (no policy honoured), stop it: grading starts its own
# instance on a loopback port. Only the service manager or the package's own pidfile is used, never a name match.
if command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ]; then
    if systemctl is-active --quiet prometheus-blackbox-exporter 2>/dev/null; then
        say "stopping the prometheus-blackbox-exporter system service"
        systemctl stop prometheus-blackbox-exporter || die "cannot stop prometheus-blackbox-exporter"
    fi
fi
for pf in /run/prometheus/prometheus-blackbox-exporter.pid /run/prometheus-blackbox-exporter.pid; do
    if [ -s "$pf" ]; then
        pid=$(tr -dc 0-9 <"$pf")
        if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
            say "stopping system instance pid $pid ($pf)"
            kill "$pid" 2>/dev/null
        fi
    fi
done

# --- sslyze in its own venv ------------------------------------------------------------------------------
have_sslyze() {
    [ -x "$VENV/bin/sslyze" ] && [ "$("$VENV/bin/python" -c \
        'import importlib.metadata as m; print(m.version("sslyze"))' 2>/dev/null)" = "$SSLYZE_VERSION" ]
}
if have_sslyze; then
    say "sslyze $SSLYZE_VERSION present in $VENV"
else
    if [ ! -x "$VENV/bin/python" ]; then
        say "creating $VENV"
        python3 -m venv "$VENV" || die "python3 -m venv $VENV failed"
    fi
    say "installing sslyze==$SSLYZE_VERSION into $VENV"
    if ! timeout 600 "$VENV/bin/pip" install -q --disable-pip-version-check "sslyze==$SSLYZE_VERSION"; then
        say "pip install failed, retrying once" >&2
        timeout 600 "$VENV/bin/pip" install -q --disable-pip-version-check "sslyze==$SSLYZE_VERSION" \
            || die "pip install sslyze==$SSLYZE_VERSION into $VENV failed"
    fi
    have_sslyze || die "sslyze $SSLYZE_VERSION still not usable in $VENV"
fi

# --- the programs the adapters call ------------------------------------------------------------------------
for prog in /usr/lib/nagios/plugins/check_smtp /usr/lib/nagios/plugins/check_ssmtp \
            /usr/lib/nagios/plugins/check_simap /usr/lib/nagios/plugins/check_spop \
            /usr/lib/nagios/plugins/check_ftp /usr/lib/nagios/plugins/check_ldap \
            /usr/lib/nagios/plugins/check_http /usr/lib/nagios/plugins/check_ssl_cert \
            /usr/bin/prometheus-blackbox-exporter /usr/bin/testssl "$VENV/bin/sslyze"; do
    [ -x "$prog" ] || die "$prog missing after install"
done
say "done"
