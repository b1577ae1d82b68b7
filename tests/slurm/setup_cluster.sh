#!/usr/bin/env bash
# Start a throw-away single-node SLURM cluster on localhost, with job accounting, for
# tests/test_slurm.py. Needs root and Debian packages (installed here if missing). No systemd: every
# daemon is started by hand and leaves a pid file under the state directory, which
# teardown_cluster.sh uses to stop it.
#
#   tests/slurm/setup_cluster.sh [STATE_DIR]       (default: $CRFM_SLURM_STATE or /tmp/crfm-slurm)
#   tests/slurm/setup_cluster.sh --install-only     (only the packages; what .ci/install-slurm.sh runs)
#
# On success the last line on stdout is `SLURM_CONF=<STATE_DIR>/etc/slurm.conf`: export it before
# calling sinfo/sbatch/squeue/sacct or Snakemake's SLURM executor.
#
# Two kinds of cluster (CRFM_SLURM_ACCOUNTING): with job accounting (slurmdbd + MariaDB, so `sacct`
# answers; the default) or without (`AccountingStorageType=accounting_storage/none`: `sacct` says
# "Slurm accounting storage is disabled", as on many departmental clusters). The workflow must run on
# both: job states come from `squeue` where `sacct` cannot answer (profiles/slurm).
#
# Where the config lives: snakemake-executor-plugin-slurm-jobstep >= 0.6 removes SLURM_CONF from a
# job's environment, so `srun` inside a job reads /etc/slurm/slurm.conf, as on a real cluster. The
# generated config is written under STATE_DIR and linked from /etc/slurm/slurm.conf (and
# slurmdbd.conf); an /etc/slurm/slurm.conf that this script did not create is never replaced (the
# script stops instead), and teardown_cluster.sh removes only its own links.
#
# Idempotent: running it again while the cluster is up changes nothing; a daemon that is already
# running (live pid in its pid file) is not started twice. Bounded: every wait has a deadline.
#
# Environment knobs (all optional):
#   CRFM_SLURM_ACCOUNTING  1 (default): slurmdbd + MariaDB; 0: no job accounting
#   CRFM_SLURM_PARTITION   partition name (default: crfm; the only and default partition)
#   CRFM_SLURM_PORT_BASE   slurmctld port; slurmd, slurmdbd and MariaDB use base+1, +2, +3
#                          (default 16817, away from SLURM's own 6817-6819 so a real cluster on
#                          the machine is left alone)
#   CRFM_SLURM_NO_INSTALL=1   never call apt-get (fail if a package is missing)
#   CRFM_SLURM_WAIT        seconds to wait for each daemon (default 60)
set -euo pipefail

INSTALL_ONLY=0
if [ "${1:-}" = --install-only ]; then
    INSTALL_ONLY=1
    shift
fi
STATE=${1:-${CRFM_SLURM_STATE:-/tmp/crfm-slurm}}
PARTITION=${CRFM_SLURM_PARTITION:-crfm}
BASE=${CRFM_SLURM_PORT_BASE:-16817}
WAIT=${CRFM_SLURM_WAIT:-60}
ACCOUNTING=${CRFM_SLURM_ACCOUNTING:-1}
ETC=/etc/slurm
CLUSTER=crfm
CTLD_PORT=$BASE
SLURMD_PORT=$((BASE + 1))
DBD_PORT=$((BASE + 2))
DB_PORT=$((BASE + 3))
DB_PASS=crfm-test-only
NODE=$(hostname -s)

log() { echo "[setup_cluster $(date +%T)] $*" >&2; }
die() {
    log "ERROR: $*"
    for f in "$STATE"/log/*.log; do
        [ -s "$f" ] && { echo "--- tail of $f" >&2; tail -n 20 "$f" >&2; }
    done
    exit 1
}
alive() { [ -s "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }
# wait_for SECONDS DESCRIPTION COMMAND...: poll COMMAND every 0.5 s until it succeeds.
# A port already taken (a cluster from an earlier run, a real SLURM) makes a daemon fail obscurely.
port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
need_port() { port_free "$1" || die "port $1 ($2) is in use: stop the other cluster, or set CRFM_SLURM_PORT_BASE"; }
wait_for() {
    local secs=$1 what=$2
    shift 2
    local deadline=$((SECONDS + secs))
    until "$@" >/dev/null 2>&1; do
        [ $SECONDS -lt $deadline ] || die "timed out after ${secs}s waiting for $what"
        sleep 0.5
    done
}

[ "$(id -u)" -eq 0 ] || die "needs root (installs packages, starts munged/slurmctld/slurmd as root)"
T0=$SECONDS

# --- 1. packages ---------------------------------------------------------------------------------
need=()
for pair in slurmctld:slurmctld slurmd:slurmd slurmdbd:slurmdbd sinfo:slurm-client \
    sacct:slurm-client munged:munge mariadbd:mariadb-server mariadb-install-db:mariadb-server \
    mariadb:mariadb-server; do
    command -v "${pair%%:*}" >/dev/null 2>&1 || need+=("${pair#*:}")
done
if [ ${#need[@]} -gt 0 ]; then
    [ "${CRFM_SLURM_NO_INSTALL:-0}" != 1 ] || die "missing packages: ${need[*]} (CRFM_SLURM_NO_INSTALL=1)"
    log "installing slurm-wlm slurmdbd munge mariadb-server (missing: ${need[*]})"
    export DEBIAN_FRONTEND=noninteractive
    timeout -k 10 300 apt-get update -q >&2 || die "apt-get update failed"
    timeout -k 10 600 apt-get install -y -q --no-install-recommends \
        slurm-wlm slurmdbd munge mariadb-server >&2 || die "apt-get install failed"
fi
log "packages ready ($((SECONDS - T0)) s): $(slurmctld -V)"
[ "$INSTALL_ONLY" = 0 ] || exit 0

mkdir -p "$STATE"/{etc,log,ctld,spool,mysql-run}
export SLURM_CONF=$STATE/etc/slurm.conf

# The default config path must be ours (a link into a state directory of this script) or free.
ours() { [ -L "$1" ] && { [ ! -e "$1" ] || grep -q "^# Generated by tests/slurm/setup_cluster.sh" "$1"; }; }
for f in slurm.conf slurmdbd.conf; do
    if [ -e "$ETC/$f" ] || [ -L "$ETC/$f" ]; then
        ours "$ETC/$f" || die "$ETC/$f exists and was not written by this script: a real SLURM configuration is left alone (stop here)"
    fi
done

# Already up? (second call while the cluster runs, with the same kind of accounting)
if alive "$STATE/slurmctld.pid" && alive "$STATE/slurmd.pid" &&
    { [ "$ACCOUNTING" = 0 ] || alive "$STATE/slurmdbd.pid"; } &&
    [ "$(cat "$STATE/accounting" 2>/dev/null)" = "$ACCOUNTING" ] &&
    sinfo -h -o %t 2>/dev/null | grep -qxE "idle|mix|alloc"; then
    log "cluster already up (accounting=$ACCOUNTING)"
    echo "SLURM_CONF=$SLURM_CONF"
    exit 0
fi
if alive "$STATE/slurmctld.pid"; then
    die "a cluster with another setting is running from $STATE: run tests/slurm/teardown_cluster.sh $STATE first"
fi

# --- 2. munge (system-wide: SLURM's auth plugin talks to the default socket) ---------------------
if [ ! -s /etc/munge/munge.key ]; then
    log "creating /etc/munge/munge.key"
    install -d -o munge -g munge -m 0700 /etc/munge
    (umask 077 && dd if=/dev/urandom of=/etc/munge/munge.key bs=1024 count=1 status=none)
    chown munge:munge /etc/munge/munge.key
    chmod 0400 /etc/munge/munge.key
fi
install -d -o munge -g munge -m 0755 /run/munge
install -d -o munge -g munge -m 0700 /var/lib/munge /var/log/munge
if munge -n 2>/dev/null | unmunge >/dev/null 2>&1; then
    log "munged already running"
else
    rm -f /run/munge/munged.pid /run/munge/munge.socket.2*
    runuser -u munge -- munged || die "munged did not start (see /var/log/munge/munged.log)"
    touch "$STATE/munged.started-by-us" # teardown stops munged only if we started it
    wait_for "$WAIT" munged sh -c 'munge -n | unmunge'
    log "munged started"
fi

# --- 3. MariaDB for slurmdbd (own data dir and port, never the system one) -----------------------
if [ "$ACCOUNTING" = 1 ]; then
if [ ! -d "$STATE/mysql/mysql" ]; then
    log "initialising MariaDB data dir"
    timeout -k 5 120 mariadb-install-db --datadir="$STATE/mysql" --user=root \
        --auth-root-authentication-method=socket --skip-test-db >"$STATE/log/mariadb-install.log" 2>&1 ||
        die "mariadb-install-db failed (see $STATE/log/mariadb-install.log)"
fi
if ! alive "$STATE/mysqld.pid"; then
    need_port "$DB_PORT" MariaDB
    setsid mariadbd --no-defaults --user=root --datadir="$STATE/mysql" --bind-address=127.0.0.1 \
        --port="$DB_PORT" --socket="$STATE/mysql-run/mysqld.sock" --pid-file="$STATE/mysqld.pid" \
        --log-error="$STATE/log/mariadb.log" --innodb-buffer-pool-size=64M \
        --innodb-lock-wait-timeout=900 </dev/null >/dev/null 2>&1 &
    wait_for "$WAIT" "MariaDB" mariadb --no-defaults -S "$STATE/mysql-run/mysqld.sock" -e 'SELECT 1'
    log "MariaDB started on 127.0.0.1:$DB_PORT"
fi
mariadb --no-defaults -S "$STATE/mysql-run/mysqld.sock" <<SQL || die "could not create the slurm DB user"
CREATE USER IF NOT EXISTS 'slurm'@'localhost' IDENTIFIED BY '$DB_PASS';
CREATE USER IF NOT EXISTS 'slurm'@'127.0.0.1' IDENTIFIED BY '$DB_PASS';
GRANT ALL ON slurm_acct_db.* TO 'slurm'@'localhost';
GRANT ALL ON slurm_acct_db.* TO 'slurm'@'127.0.0.1';
SQL
fi

# --- 4. configuration ------------------------------------------------------------------------------
# CPUs, sockets, cores and memory exactly as this machine reports them.
hw=$(slurmd -C | head -n 1 | sed 's/^NodeName=[^ ]* //')
if [ "$ACCOUNTING" = 1 ]; then
    ACCOUNTING_CONF="# accounting: slurmdbd below, so sacct works
AccountingStorageType=accounting_storage/slurmdbd
AccountingStorageHost=127.0.0.1
AccountingStoragePort=$DBD_PORT
# store sbatch --comment (the plugin puts rule_<name> there), so sacct can name each job's rule
AccountingStoreFlags=job_comment"
else
    ACCOUNTING_CONF="# no job accounting: sacct answers 'Slurm accounting storage is disabled'
AccountingStorageType=accounting_storage/none"
fi
cat >"$STATE/etc/slurm.conf" <<CONF
# Generated by tests/slurm/setup_cluster.sh: a one-node test cluster, not for production.
ClusterName=$CLUSTER
SlurmctldHost=$NODE(127.0.0.1)
SlurmctldPort=$CTLD_PORT
SlurmdPort=$SLURMD_PORT
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
StateSaveLocation=$STATE/ctld
SlurmdSpoolDir=$STATE/spool
SlurmctldPidFile=$STATE/slurmctld.pid
SlurmdPidFile=$STATE/slurmd.pid
SlurmctldLogFile=$STATE/log/slurmctld.log
SlurmdLogFile=$STATE/log/slurmd.log
SlurmctldDebug=info
SlurmdDebug=info
# no systemd/cgroup v2 delegation here: track processes by parent pid, no task confinement
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
SchedulerType=sched/backfill
MpiDefault=none
ReturnToService=2
InactiveLimit=0
KillWait=5
MinJobAge=600
$ACCOUNTING_CONF
JobCompType=jobcomp/none
NodeName=$NODE NodeAddr=127.0.0.1 $hw State=UNKNOWN
PartitionName=$PARTITION Nodes=$NODE Default=YES MaxTime=INFINITE State=UP
CONF
# slurmdbd reads slurmdbd.conf next to $SLURM_CONF; it must be 0600 and owned by SlurmUser.
(umask 077 && cat >"$STATE/etc/slurmdbd.conf" <<CONF
# Generated by tests/slurm/setup_cluster.sh
AuthType=auth/munge
DbdHost=localhost
DbdAddr=127.0.0.1
DbdPort=$DBD_PORT
SlurmUser=root
PidFile=$STATE/slurmdbd.pid
LogFile=$STATE/log/slurmdbd.log
StorageType=accounting_storage/mysql
StorageHost=127.0.0.1
StoragePort=$DB_PORT
StorageUser=slurm
StoragePass=$DB_PASS
StorageLoc=slurm_acct_db
CONF
)
chmod 0600 "$STATE/etc/slurmdbd.conf"
echo "$ACCOUNTING" >"$STATE/accounting"
# where SLURM looks by default (jobs of the jobstep plugin see no SLURM_CONF)
install -d -m 0755 "$ETC"
ln -sfn "$STATE/etc/slurm.conf" "$ETC/slurm.conf"
if [ "$ACCOUNTING" = 1 ]; then
    ln -sfn "$STATE/etc/slurmdbd.conf" "$ETC/slurmdbd.conf"
fi

# --- 5. slurmdbd, cluster registration, slurmctld, slurmd -----------------------------------------
if [ "$ACCOUNTING" = 1 ]; then
    if ! alive "$STATE/slurmdbd.pid"; then
        need_port "$DBD_PORT" slurmdbd
        slurmdbd || die "slurmdbd did not start"
    fi
    wait_for "$WAIT" "slurmdbd" sacctmgr -n list cluster
    if ! sacctmgr -n -P list cluster format=cluster | grep -qx "$CLUSTER"; then
        timeout 30 sacctmgr -i add cluster "$CLUSTER" >&2 || die "sacctmgr add cluster failed"
    fi
    log "slurmdbd up on 127.0.0.1:$DBD_PORT, cluster '$CLUSTER' registered"
else
    log "no job accounting (slurmdbd not started)"
fi

if ! alive "$STATE/slurmctld.pid"; then
    need_port "$CTLD_PORT" slurmctld
    slurmctld -c || die "slurmctld did not start" # -c: no saved state from an earlier run
fi
wait_for "$WAIT" "slurmctld" scontrol ping
if ! alive "$STATE/slurmd.pid"; then
    need_port "$SLURMD_PORT" slurmd
    slurmd -N "$NODE" || die "slurmd did not start"
fi
idle() { sinfo -h -n "$NODE" -o %t | grep -qx idle; }
wait_for "$WAIT" "node $NODE to become idle" idle
log "node $NODE idle in partition $PARTITION (accounting=$ACCOUNTING); setup took $((SECONDS - T0)) s"
sinfo >&2
echo "SLURM_CONF=$SLURM_CONF"
