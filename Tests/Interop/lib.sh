# Shared helpers for the interop scripts (sourced, not run).
# Every wait here has a deadline; processes are only ever signalled by a PID
# read from a pidfile under the run dir.

INTEROP_HOST=127.0.0.1
# Deadlines, in seconds (overridable from the environment).
: "${INTEROP_PORT_DEADLINE:=10}"
: "${INTEROP_STOP_DEADLINE:=10}"

# Port offsets from BASE_PORT. Names and modes follow MimicCore's
# ServiceProtocol and TLSMode raw values.
# name port-offset mode server
INTEROP_LAYOUT="smtp 0 starttls postfix
smtp 1 implicit postfix
imap 2 starttls dovecot
imap 3 implicit dovecot
pop3 4 starttls dovecot
pop3 5 implicit dovecot
ftp 6 starttls vsftpd-explicit
ftp 7 implicit vsftpd-implicit
ldap 8 starttls slapd
ldap 9 implicit slapd
https 10 implicit nginx"
INTEROP_PASV_EXPLICIT_FIRST=20
INTEROP_PASV_EXPLICIT_LAST=29
INTEROP_PASV_IMPLICIT_FIRST=30
INTEROP_PASV_IMPLICIT_LAST=40
INTEROP_SPAN=41   # ports used: BASE_PORT .. BASE_PORT+40

say()  { echo "$(basename "$0"): $*" >&2; }

# port_open PORT: true when something accepts a TCP connection on 127.0.0.1:PORT.
port_open() {
    timeout 2 bash -c "exec 3<>/dev/tcp/$INTEROP_HOST/$1" 2>/dev/null
}

# wait_port PORT SERVER LOGFILE [PID]: poll until the port accepts, at most
# INTEROP_PORT_DEADLINE seconds; give up at once if PID (when given) exits.
wait_port() {
    local port=$1 server=$2 logfile=$3 pid=${4:-}
    local end=$((SECONDS + INTEROP_PORT_DEADLINE))
    while ! port_open "$port"; do
        if [ -n "$pid" ] && ! pid_alive "$pid"; then
            say "$server: exited (pid $pid) before 127.0.0.1:$port accepted (log: $logfile)"
            return 1
        fi
        if [ "$SECONDS" -ge "$end" ]; then
            say "$server: 127.0.0.1:$port not accepting after ${INTEROP_PORT_DEADLINE}s (log: $logfile)"
            return 1
        fi
        sleep 0.2
    done
}

# wait_port_closed PORT: poll until nothing accepts, at most INTEROP_STOP_DEADLINE s.
wait_port_closed() {
    local port=$1
    local end=$((SECONDS + INTEROP_STOP_DEADLINE))
    while port_open "$port"; do
        if [ "$SECONDS" -ge "$end" ]; then
            say "127.0.0.1:$port still accepting after ${INTEROP_STOP_DEADLINE}s"
            return 1
        fi
        sleep 0.2
    done
}

# pid_from FILE: the first number in a pidfile, empty if none.
pid_from() {
    [ -s "$1" ] || return 0
    head -n1 "$1" | tr -dc 0-9
}

# pid_alive PID: the process exists and is not a zombie (an exited daemon
# waits for PID 1 to reap it, which may take a while in a container).
pid_alive() {
    [ -n "$1" ] && kill -0 "$1" 2>/dev/null || return 1
    local state
    state=$(awk '{ print $3 }' "/proc/$1/stat" 2>/dev/null)
    [ -n "$state" ] && [ "$state" != Z ]
}

# pid_is PID BINARY: the live process PID runs /usr/sbin/BINARY or
# /usr/lib/postfix/sbin/BINARY, so a stale pidfile whose number was reused by
# an unrelated process is never signalled.
pid_is() {
    pid_alive "$1" || return 1
    local exe
    exe=$(readlink "/proc/$1/exe" 2>/dev/null) || return 1
    [ "$(basename "${exe% (deleted)}")" = "$2" ]
}

# wait_pid_gone PID SECONDS
wait_pid_gone() {
    local pid=$1 end=$((SECONDS + $2))
    while pid_alive "$pid"; do
        [ "$SECONDS" -ge "$end" ] && return 1
        sleep 0.2
    done
}

# stop_pidfile NAME PIDFILE BINARY: TERM the PID (when it runs BINARY), wait,
# KILL it if it outlives the deadline.
stop_pidfile() {
    local name=$1 pidfile=$2 binary=$3 pid
    pid=$(pid_from "$pidfile")
    if ! pid_alive "$pid"; then
        return 0
    fi
    if ! pid_is "$pid" "$binary"; then
        say "$name: pid $pid from $pidfile is not $binary any more; not signalling it"
        return 0
    fi
    kill -TERM "$pid" 2>/dev/null
    if ! wait_pid_gone "$pid" "$INTEROP_STOP_DEADLINE"; then
        say "$name: pid $pid ignored TERM for ${INTEROP_STOP_DEADLINE}s, sending KILL"
        kill -KILL "$pid" 2>/dev/null
        wait_pid_gone "$pid" 5 || { say "$name: pid $pid survives KILL"; return 1; }
    fi
    say "$name: stopped pid $pid"
}

# abs PATH: absolute path of an existing directory.
abs_dir() { (cd "$1" 2>/dev/null && pwd -P); }
