#!/bin/bash
# start.sh CERT_DIR RUN_DIR BASE_PORT
#
# Starts private instances of postfix, dovecot, vsftpd (explicit + implicit),
# slapd and nginx on 127.0.0.1, each with its own config under RUN_DIR, all
# serving CERT_DIR/chain.pem exactly as given with CERT_DIR/leaf.key.
# Prints "NAME PORT MODE" per service and writes the same to RUN_DIR/services.txt.
set -u
HERE=$(cd "$(dirname "$0")" && pwd -P)
. "$HERE/lib.sh"

usage() { echo "usage: $0 CERT_DIR RUN_DIR BASE_PORT" >&2; exit 2; }
[ $# -eq 3 ] || usage
CERT_IN=$1 RUN_IN=$2 BASE=$3

die() { say "$*"; exit 1; }

[ "$(id -u)" = 0 ] || die "must run as root (the servers bind, chroot and drop privileges)"
case $BASE in ''|*[!0-9]*) die "BASE_PORT must be a number, got '$BASE'";; esac
[ "$BASE" -ge 1024 ] && [ $((BASE + INTEROP_SPAN - 1)) -le 65535 ] \
    || die "BASE_PORT must leave room for $INTEROP_SPAN ports in 1024..65535"
[ -r "$CERT_IN/chain.pem" ] || die "missing $CERT_IN/chain.pem"
[ -r "$CERT_IN/leaf.key" ] || die "missing $CERT_IN/leaf.key"
for b in postfix dovecot vsftpd slapd nginx openssl; do
    command -v "$b" >/dev/null || [ -x "/usr/sbin/$b" ] || die "$b not installed (run install.sh)"
done
PATH=/usr/sbin:/usr/bin:/sbin:/bin:$PATH

mkdir -p "$RUN_IN" || die "cannot create $RUN_IN"
RUN=$(abs_dir "$RUN_IN") || die "cannot resolve $RUN_IN"
CERT=$(abs_dir "$CERT_IN") || die "cannot resolve $CERT_IN"

# The servers' unprivileged processes (postfix, dovecot, nginx workers, the
# vsftpd session) must traverse RUN_DIR: give it o+x and check the parents.
chmod o+x "$RUN" || die "cannot chmod o+x $RUN"
d=$RUN
while [ "$d" != / ]; do
    d=$(dirname "$d")
    perm=$(stat -c %A "$d")
    case $perm in
        *x|*t) ;;
        *) die "$d is not traversable by others ($perm); the servers' unprivileged users need it";;
    esac
done

# Refuse to start over running instances.
while read -r pf bin; do
    pid=$(pid_from "$RUN/$pf")
    pid_is "$pid" "$bin" && die "an instance from $RUN is still running (pid $pid, $RUN/$pf): run stop.sh $RUN first"
done <<LIST
postfix/spool/pid/master.pid master
dovecot/run/master.pid dovecot
vsftpd/explicit.pid vsftpd
vsftpd/implicit.pid vsftpd
slapd/slapd.pid slapd
nginx/nginx.pid nginx
LIST

port() { echo $((BASE + $1)); }
for off in $(seq 0 10) $(seq $INTEROP_PASV_EXPLICIT_FIRST $INTEROP_PASV_IMPLICIT_LAST); do
    p=$(port "$off")
    port_open "$p" && die "127.0.0.1:$p is already in use"
done
echo "$BASE" >"$RUN/base_port"
rm -f "$RUN/services.txt"

# --- certificate material, copied so the servers never read CERT_DIR ------
mkdir -p "$RUN/tls"
chmod 755 "$RUN/tls"
install -m 644 "$CERT/chain.pem" "$RUN/tls/chain.pem"
install -m 600 "$CERT/leaf.key" "$RUN/tls/leaf.key"
ncert=$(grep -c -- '-----BEGIN CERTIFICATE-----' "$RUN/tls/chain.pem")
[ "$ncert" -ge 1 ] || die "$CERT/chain.pem holds no PEM certificate"
grep -q -- 'ENCRYPTED' "$RUN/tls/leaf.key" && die "$CERT/leaf.key is encrypted; the servers need a clear key"
openssl pkey -in "$RUN/tls/leaf.key" -noout 2>/dev/null || die "$CERT/leaf.key is not a readable private key"
# The key must match the first certificate (the leaf).
kpub=$(openssl pkey -in "$RUN/tls/leaf.key" -pubout 2>/dev/null | sha256sum)
cpub=$(openssl x509 -in "$RUN/tls/chain.pem" -noout -pubkey 2>/dev/null | sha256sum)
[ "$kpub" = "$cpub" ] || die "leaf.key does not match the first certificate of chain.pem"
CHAIN=$RUN/tls/chain.pem
KEY=$RUN/tls/leaf.key

STARTED=()
fail() {
    local server=$1 logfile=$2
    say "$server failed to start; last lines of $logfile:"
    [ -r "$logfile" ] && tail -n 30 "$logfile" >&2
    say "stopping what was started: ${STARTED[*]:-nothing}"
    "$HERE/stop.sh" "$RUN" >&2 || true
    exit 1
}

# wait_ports SERVER LOG PIDFILE OFFSET...: the PID (once its pidfile exists)
# is watched so a server that dies is reported at once, not at the deadline.
wait_ports() {
    local server=$1 logfile=$2 pidfile=$3 off
    shift 3
    for off in "$@"; do
        wait_port "$(port "$off")" "$server" "$logfile" "$(pid_from "$pidfile")" \
            || fail "$server" "$logfile"
    done
}

# --- postfix -------------------------------------------------------------
start_postfix() {
    local dir=$RUN/postfix log=$RUN/postfix/postfix.log
    # spool/ must exist (root, 755); postfix creates its subdirectories and
    # data/ with its own owners.
    mkdir -p "$dir/spool"
    chmod 755 "$dir" "$dir/spool"
    cat >"$dir/main.cf" <<MAIN
# Private postfix instance for the interop tier: accepts connections, offers
# TLS, delivers nothing anywhere.
compatibility_level = 3.6
queue_directory = $dir/spool
data_directory = $dir/data
command_directory = /usr/sbin
daemon_directory = /usr/lib/postfix/sbin
meta_directory = /etc/postfix
shlib_directory = /usr/lib/postfix
mail_owner = postfix
setgid_group = postdrop
maillog_file = $log
maillog_file_prefixes = $dir
myhostname = mail.example.test
mydomain = example.test
myorigin = \$myhostname
mydestination =
relay_domains =
mynetworks = 127.0.0.1/32
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
alias_maps =
alias_database =
biff = no
smtpd_peername_lookup = no
smtpd_banner = \$myhostname ESMTP mimic-interop
default_transport = error:interop instance delivers nothing
relay_transport = error:interop instance delivers nothing
local_transport = error:interop instance delivers nothing
smtpd_relay_restrictions = reject
smtpd_recipient_restrictions = reject
smtpd_tls_cert_file = $CHAIN
smtpd_tls_key_file = $KEY
smtpd_tls_security_level = may
smtpd_tls_loglevel = 1
smtpd_tls_session_cache_database =
tls_random_source = dev:/dev/urandom
${MIMIC_POSTFIX_EXTRA:-}
MAIN
    cat >"$dir/master.cf" <<MASTER
# service type private unpriv chroot wakeup maxproc command
127.0.0.1:$(port 0) inet n - n - - smtpd
  -o smtpd_tls_security_level=may
127.0.0.1:$(port 1) inet n - n - - smtpd
  -o smtpd_tls_wrappermode=yes
  -o smtpd_tls_security_level=encrypt
cleanup   unix  n - n - 0 cleanup
qmgr      unix  n - n 300 1 qmgr
tlsmgr    unix  - - n 1000? 1 tlsmgr
rewrite   unix  - - n - - trivial-rewrite
bounce    unix  - - n - 0 bounce
defer     unix  - - n - 0 bounce
trace     unix  - - n - 0 bounce
verify    unix  - - n - 1 verify
flush     unix  n - n 1000? 0 flush
proxymap  unix  - - n - - proxymap
anvil     unix  - - n - 1 anvil
scache    unix  - - n - 1 scache
error     unix  - - n - - error
retry     unix  - - n - - error
discard   unix  - - n - - discard
postlog   unix-dgram n - n - 1 postlogd
MASTER
    : >>"$log"
    if ! postfix -c "$dir" start </dev/null >>"$log" 2>&1; then
        fail postfix "$log"
    fi
    STARTED+=(postfix)
    wait_ports postfix "$log" "$dir/spool/pid/master.pid" 0 1
}

# --- dovecot -------------------------------------------------------------
start_dovecot() {
    local dir=$RUN/dovecot log=$RUN/dovecot/dovecot.log
    mkdir -p "$dir/state" "$dir/run"
    chmod 755 "$dir"
    : >"$dir/users"     # no users: nobody can log in, the TLS layer is what matters
    chmod 644 "$dir/users"
    cat >"$dir/dovecot.conf" <<CONF
# Private dovecot instance for the interop tier.
base_dir = $dir/run
state_dir = $dir/state
instance_name = mimic-interop-$BASE
protocols = imap pop3
listen = 127.0.0.1
log_path = $log
info_log_path = $log
ssl = yes
ssl_cert = <$CHAIN
ssl_key = <$KEY
ssl_dh = </usr/share/dovecot/dh.pem
verbose_ssl = yes
auth_mechanisms = plain
disable_plaintext_auth = yes
mail_location = maildir:$dir/mail/%u
passdb {
  driver = passwd-file
  args = $dir/users
}
userdb {
  driver = passwd-file
  args = $dir/users
}
service imap-login {
  inet_listener imap {
    address = 127.0.0.1
    port = $(port 2)
  }
  inet_listener imaps {
    address = 127.0.0.1
    port = $(port 3)
    ssl = yes
  }
}
service pop3-login {
  inet_listener pop3 {
    address = 127.0.0.1
    port = $(port 4)
  }
  inet_listener pop3s {
    address = 127.0.0.1
    port = $(port 5)
    ssl = yes
  }
}
CONF
    : >>"$log"
    if ! dovecot -c "$dir/dovecot.conf" </dev/null >>"$log" 2>&1; then
        fail dovecot "$log"
    fi
    STARTED+=(dovecot)
    wait_ports dovecot "$log" "$dir/run/master.pid" 2 3 4 5
}

# --- vsftpd --------------------------------------------------------------
# vsftpd_conf NAME PORT PASV_FIRST PASV_LAST IMPLICIT
vsftpd_conf() {
    local name=$1 p=$2 first=$3 last=$4 implicit=$5 dir=$RUN/vsftpd
    cat >"$dir/$name.conf" <<CONF
# Private vsftpd instance ($name TLS) for the interop tier.
listen=YES
listen_ipv6=NO
listen_address=127.0.0.1
listen_port=$p
background=NO
anonymous_enable=YES
local_enable=NO
write_enable=NO
anon_root=$dir/anon
ftp_username=ftp
nopriv_user=nobody
secure_chroot_dir=$dir/empty
pasv_enable=YES
pasv_address=127.0.0.1
pasv_addr_resolve=NO
pasv_min_port=$first
pasv_max_port=$last
connect_from_port_20=NO
dirmessage_enable=NO
hide_ids=YES
seccomp_sandbox=NO
ftpd_banner=mimic-interop vsftpd ($name TLS)
ssl_enable=YES
implicit_ssl=$implicit
allow_anon_ssl=YES
force_anon_logins_ssl=YES
force_anon_data_ssl=YES
require_ssl_reuse=YES
ssl_ciphers=HIGH
rsa_cert_file=$CHAIN
rsa_private_key_file=$KEY
debug_ssl=YES
xferlog_enable=YES
log_ftp_protocol=YES
vsftpd_log_file=$dir/$name.log
CONF
    chmod 600 "$dir/$name.conf"
}

start_vsftpd() {
    local dir=$RUN/vsftpd name p implicit first last log
    mkdir -p "$dir/anon" "$dir/empty"
    chmod 755 "$dir" "$dir/anon" "$dir/empty"
    # The anon root must not be writable by the ftp user; one small file so a
    # LIST proves bytes crossed the TLS data channel.
    echo "mimic interop" >"$dir/anon/readme.txt"
    chmod 644 "$dir/anon/readme.txt"
    for name in explicit implicit; do
        if [ $name = explicit ]; then
            p=$(port 6) implicit=NO
            first=$(port $INTEROP_PASV_EXPLICIT_FIRST) last=$(port $INTEROP_PASV_EXPLICIT_LAST)
        else
            p=$(port 7) implicit=YES
            first=$(port $INTEROP_PASV_IMPLICIT_FIRST) last=$(port $INTEROP_PASV_IMPLICIT_LAST)
        fi
        log=$dir/$name.log
        vsftpd_conf $name "$p" "$first" "$last" $implicit
        : >>"$log"
        # background=NO: this PID is the listener; its stdio goes to a file
        # so the caller's pipes close when start.sh exits.
        setsid vsftpd "$dir/$name.conf" </dev/null >>"$dir/$name.stderr" 2>&1 &
        echo $! >"$dir/$name.pid"
        STARTED+=("vsftpd-$name")
        wait_port "$p" "vsftpd-$name" "$log" "$(pid_from "$dir/$name.pid")" || { cat "$dir/$name.stderr" >>"$log"; fail "vsftpd-$name" "$log"; }
    done
}

# --- slapd ---------------------------------------------------------------
start_slapd() {
    local dir=$RUN/slapd log=$RUN/slapd/slapd.log
    mkdir -p "$dir"
    chmod 755 "$dir"
    cat >"$dir/slapd.conf" <<CONF
# Private slapd instance for the interop tier: no database, the RootDSE is
# readable anonymously (slapd's default access when none is configured).
argsfile $dir/slapd.args
TLSCertificateFile $CHAIN
TLSCertificateKeyFile $KEY
TLSVerifyClient never
CONF
    : >>"$log"
    # -d keeps slapd in the foreground (so this PID is slapd) and logs to
    # stderr; 320 = stats (connections, operations, TLS) + config (so a bad
    # line is named in the log).
    setsid slapd -f "$dir/slapd.conf" \
        -h "ldap://127.0.0.1:$(port 8)/ ldaps://127.0.0.1:$(port 9)/" \
        -d 320 </dev/null >>"$log" 2>&1 &
    echo $! >"$dir/slapd.pid"
    STARTED+=(slapd)
    wait_ports slapd "$log" "$dir/slapd.pid" 8 9
}

# --- nginx ---------------------------------------------------------------
start_nginx() {
    local dir=$RUN/nginx log=$RUN/nginx/error.log
    mkdir -p "$dir/html" "$dir/tmp"
    chmod 755 "$dir" "$dir/html"
    echo "mimic interop nginx" >"$dir/html/index.html"
    chmod 644 "$dir/html/index.html"
    cat >"$dir/nginx.conf" <<CONF
# Private nginx instance for the interop tier.
daemon on;
worker_processes 1;
user nobody nogroup;
pid $dir/nginx.pid;
error_log $log info;
events { worker_connections 64; }
http {
    access_log $dir/access.log;
    client_body_temp_path $dir/tmp/body;
    proxy_temp_path $dir/tmp/proxy;
    fastcgi_temp_path $dir/tmp/fastcgi;
    uwsgi_temp_path $dir/tmp/uwsgi;
    scgi_temp_path $dir/tmp/scgi;
    default_type text/html;
    server {
        listen 127.0.0.1:$(port 10) ssl;
        server_name mail.example.test;
        ssl_certificate $CHAIN;
        ssl_certificate_key $KEY;
        root $dir/html;
    }
}
CONF
    : >>"$log"
    if ! nginx -p "$dir/" -e "$log" -c "$dir/nginx.conf" </dev/null >>"$log" 2>&1; then
        fail nginx "$log"
    fi
    STARTED+=(nginx)
    wait_ports nginx "$log" "$dir/nginx.pid" 10
}

start_postfix
start_dovecot
start_vsftpd
start_slapd
start_nginx

while read -r name off mode _server; do
    echo "$name $(port "$off") $mode"
done <<<"$INTEROP_LAYOUT" >"$RUN/services.txt"
cat "$RUN/services.txt"
