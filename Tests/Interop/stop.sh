#!/bin/bash
# stop.sh RUN_DIR
#
# Stops every instance that start.sh started from RUN_DIR, by PID, and waits
# for their ports to close. Leaves RUN_DIR's files (configs, logs) in place.
# Safe to run twice, and on a partially started RUN_DIR.
set -u
HERE=$(cd "$(dirname "$0")" && pwd -P)
. "$HERE/lib.sh"
PATH=/usr/sbin:/usr/bin:/sbin:/bin:$PATH

[ $# -eq 1 ] || { echo "usage: $0 RUN_DIR" >&2; exit 2; }
[ -d "$1" ] || { say "no such run dir: $1 (nothing to stop)"; exit 0; }
RUN=$(abs_dir "$1")
rc=0

# postfix: its own stop, then make sure the master is gone.
pf=$RUN/postfix/spool/pid/master.pid
pid=$(pid_from "$pf")
if pid_is "$pid" master; then
    postfix -c "$RUN/postfix" stop </dev/null >>"$RUN/postfix/postfix.log" 2>&1
    if ! wait_pid_gone "$pid" "$INTEROP_STOP_DEADLINE"; then
        stop_pidfile postfix "$pf" master || rc=1
    else
        say "postfix: stopped pid $pid"
    fi
fi

stop_pidfile dovecot "$RUN/dovecot/run/master.pid" dovecot || rc=1
stop_pidfile vsftpd-explicit "$RUN/vsftpd/explicit.pid" vsftpd || rc=1
stop_pidfile vsftpd-implicit "$RUN/vsftpd/implicit.pid" vsftpd || rc=1
stop_pidfile slapd "$RUN/slapd/slapd.pid" slapd || rc=1
stop_pidfile nginx "$RUN/nginx/nginx.pid" nginx || rc=1

if [ -s "$RUN/base_port" ]; then
    base=$(pid_from "$RUN/base_port")
    for off in $(seq 0 10); do
        wait_port_closed $((base + off)) || rc=1
    done
fi
[ $rc = 0 ] || say "some instances did not stop cleanly"
exit $rc
