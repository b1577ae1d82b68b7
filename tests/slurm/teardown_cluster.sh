#!/usr/bin/env bash
# Stop the test cluster started by setup_cluster.sh, by its pid files (never by process name).
#
#   tests/slurm/teardown_cluster.sh [STATE_DIR] [--purge]
#
# Order: slurmd, slurmctld, slurmdbd, MariaDB, then munged only if setup_cluster.sh started it;
# then the /etc/slurm links setup_cluster.sh made to this state directory.
# Each daemon gets SIGTERM and up to 20 s, then SIGKILL. Safe to run twice, or with nothing running.
# The state directory (logs, config, database) stays for inspection unless --purge is given.
set -uo pipefail

STATE=${CRFM_SLURM_STATE:-/tmp/crfm-slurm}
PURGE=0
for a in "$@"; do
    case $a in
    --purge) PURGE=1 ;;
    *) STATE=$a ;;
    esac
done

log() { echo "[teardown_cluster $(date +%T)] $*" >&2; }

stop() { # stop NAME PIDFILE
    local name=$1 pidfile=$2 pid
    [ -s "$pidfile" ] || return 0
    pid=$(cat "$pidfile")
    if kill -0 "$pid" 2>/dev/null; then
        kill -TERM "$pid" 2>/dev/null
        for _ in $(seq 1 40); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.5
        done
        if kill -0 "$pid" 2>/dev/null; then
            log "$name ($pid) ignored SIGTERM for 20 s: SIGKILL"
            kill -KILL "$pid" 2>/dev/null
            sleep 0.5
        fi
        log "stopped $name ($pid)"
    fi
    rm -f "$pidfile"
}

if [ -d "$STATE" ]; then
    # Cancel what is left in the queue first, so slurmd has no job steps to wait for.
    if [ -s "$STATE/slurmctld.pid" ] && kill -0 "$(cat "$STATE/slurmctld.pid")" 2>/dev/null; then
        SLURM_CONF=$STATE/etc/slurm.conf timeout 15 scancel --user="$(id -un)" 2>/dev/null || true
    fi
    stop slurmd "$STATE/slurmd.pid"
    stop slurmctld "$STATE/slurmctld.pid"
    stop slurmdbd "$STATE/slurmdbd.pid"
    stop mariadbd "$STATE/mysqld.pid"
    if [ -e "$STATE/munged.started-by-us" ]; then
        stop munged /run/munge/munged.pid
        rm -f "$STATE/munged.started-by-us"
    fi
    for f in slurm.conf slurmdbd.conf; do # the links setup_cluster.sh made, and only those
        if [ -L "/etc/slurm/$f" ] && [ "$(readlink "/etc/slurm/$f")" = "$STATE/etc/$f" ]; then
            rm -f "/etc/slurm/$f"
            log "removed /etc/slurm/$f"
        fi
    done
    rm -f "$STATE/accounting"
    if [ "$PURGE" = 1 ]; then
        rm -rf "$STATE"
        log "removed $STATE"
    fi
else
    log "no state directory $STATE: nothing to stop"
fi
exit 0
