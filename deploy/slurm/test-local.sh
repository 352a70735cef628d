#!/usr/bin/env bash
# A one-node Slurm cluster on this machine, to test deploy/slurm/sweep.sbatch end to end:
#   1. a 3-task array job writes a dataset equal (DuckDB, row for row) to the one-process run;
#   2. a task cancelled mid-run leaves its shard incomplete (`geomstream status` != 0), and
#      resubmitting only that task completes it, equal to the one-process run again;
#   3. a task requeued mid-run (as preemption or a node failure does) comes back by itself, resumes
#      its shard, and the dataset is again equal to the one-process run.
#
#   sudo bash deploy/slurm/test-local.sh      (Debian, root; after npm ci; CI runs it after npm test)
#
# It installs slurm-wlm and munge with apt if missing (and leaves them installed), writes
# /etc/slurm/slurm.conf (refusing if one is there that it did not write), starts its own munged
# (private key and socket), slurmctld and slurmd, and on every exit stops exactly those, and
# removes the config and its temporary folder. Exit 0 only if every check passed.
set -euo pipefail
cd "$(dirname "$0")/../.."
REPO=$PWD
export PATH="$PATH:/usr/sbin:/sbin"
# Nothing from a surrounding batch system: the reference must be one process, the cluster ours.
unset GEOMSTREAM_SHARDS JOB_COMPLETION_INDEX ${!SLURM_@}

# The test pipeline: the default one, quick, on 6 alignments with the full training length: 12
# ensembles, 4 per shard; on one core here a shard starts in ~3 s, then ~2 s per ensemble, so a cancel
# lands between a shard's first finished ensemble and its last (a ~5 s window); the one-process
# reference takes ~20 s, the whole script ~2-3 minutes.
PIPELINE=pipelines/tanh-vs-relu.ts
NAME=tanh-vs-relu
ARGS=(--quick --set alignments=0.0818,0.1637,0.2455,0.3273,0.491,0.6547 --set samples=5000 --set epochs=60)
SHARDS=3
CONF=/etc/slurm/slurm.conf
MARK='# written by geomstream deploy/slurm/test-local.sh; removed when it exits'

T0=$(date +%s)
log() { printf '[%4ds] %s\n' "$(( $(date +%s) - T0 ))" "$*"; }
die() { log "ERROR: $*" >&2; exit 1; }

# --- preconditions: refuse rather than disturb a machine that has Slurm of its own -------------
[[ $(id -u) -eq 0 ]] || die "run as root (it installs packages and starts daemons)"
[[ -d node_modules ]] || die "no node_modules in $REPO: run npm ci first"
python3 -c 'import duckdb' 2>/dev/null || die "python3 cannot import duckdb (.ci/run installs it)"
for d in slurmctld slurmd slurmstepd; do
  if pgrep -x "$d" >/dev/null; then die "a $d is already running ($(pgrep -a -x "$d" | head -1)): not starting a test cluster beside it"; fi
done
if [[ -e $CONF ]] && [[ "$(head -n 1 "$CONF")" != "$MARK" ]]; then
  die "$CONF exists and was not written by this script: not touching a configured Slurm"
fi

TMP=$(mktemp -d /tmp/geomstream-slurm.XXXXXX)
PIDS=()            # daemons we started, in start order
JOBS=()            # job ids we submitted
WROTE_CONF=0
MADE_ETC_SLURM=0
MADE_POLICY=0
CHECKS=()          # "PASS name" / "FAIL name"
REF_PID=""

cleanup() {
  local rc=$? i pid
  set +e
  trap - INT TERM
  [[ -n $REF_PID ]] && kill "$REF_PID" 2>/dev/null && wait "$REF_PID" 2>/dev/null
  if ((${#JOBS[@]})) && ((${#PIDS[@]})); then
    scancel "${JOBS[@]}" 2>/dev/null
    for i in $(seq 1 30); do [[ -z "$(squeue -h -j "$(IFS=,; echo "${JOBS[*]}")" 2>/dev/null)" ]] && break; sleep 0.5; done
  fi
  # Stop in reverse order (munged last: slurm needs it to talk while stopping).
  for ((i = ${#PIDS[@]} - 1; i >= 0; i--)); do
    pid=${PIDS[i]}
    kill -TERM "$pid" 2>/dev/null || continue
    for _ in $(seq 1 40); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
    kill -KILL "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
  done
  # Job step daemons left by our slurmd (none ran before: checked above).
  if ((${#PIDS[@]})); then for pid in $(pgrep -x slurmstepd); do kill -KILL "$pid"; done; fi
  ((WROTE_CONF)) && rm -f "$CONF"
  ((MADE_ETC_SLURM)) && rmdir /etc/slurm 2>/dev/null
  ((MADE_POLICY)) && rm -f /usr/sbin/policy-rc.d
  rm -rf "$TMP"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

check() { # check NAME OK(0|1) [what differed]
  if [[ $2 -eq 0 ]]; then CHECKS+=("PASS $1"); log "PASS $1"; else CHECKS+=("FAIL $1"); log "FAIL $1${3:+: $3}"; fi
}

# --- install -------------------------------------------------------------------------------------
if [[ ! -x /usr/sbin/slurmctld || ! -x /usr/sbin/slurmd || ! -x /usr/bin/sbatch || ! -x /usr/sbin/munged ]]; then
  log "installing slurm-wlm munge"
  # No daemon may start from the packages' scripts: only the ones below, which we stop again.
  if [[ ! -e /usr/sbin/policy-rc.d ]]; then printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d; chmod 755 /usr/sbin/policy-rc.d; MADE_POLICY=1; fi
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends slurm-wlm munge >"$TMP/apt.log" 2>&1 \
    || { tail -n 20 "$TMP/apt.log"; die "apt-get install failed"; }
  if ((MADE_POLICY)); then rm -f /usr/sbin/policy-rc.d; MADE_POLICY=0; fi
  log "installed $(slurmctld -V)"
fi

# --- munge: a private key and socket, so a munged already on this machine is neither used nor disturbed
chmod 755 "$TMP"   # munged wants its socket's directories searchable by all
mkdir -m 700 "$TMP/munge" && mkdir -m 755 "$TMP/munge-run" && mkdir "$TMP/state" "$TMP/spool" "$TMP/log" "$TMP/jobs"
dd if=/dev/urandom of="$TMP/munge/munge.key" bs=1024 count=1 status=none && chmod 400 "$TMP/munge/munge.key"
SOCKET=$TMP/munge-run/munge.socket
munged -F --key-file="$TMP/munge/munge.key" --socket="$SOCKET" --pid-file="$TMP/munge-run/munged.pid" \
  --seed-file="$TMP/munge/munged.seed" >"$TMP/log/munged.log" 2>&1 &
PIDS+=($!)
for _ in $(seq 1 40); do [[ -S $SOCKET ]] && break; sleep 0.25; done
munge -n -S "$SOCKET" | unmunge -S "$SOCKET" >/dev/null || { cat "$TMP/log/munged.log"; die "munged does not answer"; }

# --- slurm.conf ---------------------------------------------------------------------------------
HOST=$(hostname -s)
[[ -d /etc/slurm ]] || { mkdir /etc/slurm; MADE_ETC_SLURM=1; }
WROTE_CONF=1
cat >"$CONF" <<EOF
$MARK
ClusterName=geomstream-test
SlurmctldHost=$HOST(127.0.0.1)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
# A requeued job waits cred_expire (default 120 s) before it may start again; then a scheduler pass.
AuthInfo=socket=$SOCKET,cred_expire=10
SchedulerParameters=sched_interval=5,bf_interval=5
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SchedulerType=sched/backfill
MpiDefault=none
ReturnToService=2
SlurmdParameters=config_overrides
KillWait=5
MinJobAge=600
StateSaveLocation=$TMP/state
SlurmdSpoolDir=$TMP/spool
SlurmctldPidFile=$TMP/slurmctld.pid
SlurmdPidFile=$TMP/slurmd.pid
SlurmctldLogFile=$TMP/log/slurmctld.log
SlurmdLogFile=$TMP/log/slurmd.log
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/none
NodeName=$HOST NodeAddr=127.0.0.1 CPUs=$(nproc) RealMemory=1024 State=UNKNOWN
PartitionName=test Nodes=$HOST Default=YES MaxTime=INFINITE State=UP
EOF

slurmctld -D >"$TMP/log/slurmctld.out" 2>&1 &
PIDS+=($!)
slurmd -D >"$TMP/log/slurmd.out" 2>&1 &
PIDS+=($!)
daemon_logs() { tail -n 15 "$TMP"/log/slurmctld.log "$TMP"/log/slurmd.log "$TMP"/log/*.out 2>/dev/null; }
state=""
for _ in $(seq 1 120); do
  state=$(sinfo -h -n "$HOST" -o %T 2>/dev/null || true)
  [[ $state == idle ]] && break
  sleep 0.5
done
[[ $state == idle ]] || { daemon_logs; sinfo -R 2>/dev/null; die "node $HOST is '${state:-unknown}', not idle, after 60 s"; }
log "cluster up: node $HOST idle, $(nproc) CPUs"

# --- helpers --------------------------------------------------------------------------------------
submit() { # submit ARRAY OUTDIR [sbatch options...] -> prints the job id
  local array=$1 out=$2; shift 2
  sbatch --parsable --array="$array" --output="$TMP/jobs/%x-%A_%a.out" "$@" \
    deploy/slurm/sweep.sbatch "$PIPELINE" "$out" "${ARGS[@]}" | cut -d';' -f1
}
wait_job() { # wait_job JOBID TIMEOUT_S: until no task of it is pending, running or completing
  local end=$(( $(date +%s) + $2 ))
  while [[ -n "$(squeue -h -j "$1" -o %i 2>/dev/null)" ]]; do
    (( $(date +%s) < end )) || { squeue -j "$1"; return 1; }
    sleep 1
  done
}
task_states() { # task_states JOBID: "k=STATE(exit)rRESTARTS" per task k, from the controller's records
  scontrol -o show job "$1" 2>/dev/null \
    | sed -nE 's/.*JobId=[0-9]+ ArrayJobId=[0-9]+ ArrayTaskId=([0-9]+) .*JobState=([A-Z_]+) .* Restarts=([0-9]+) .* ExitCode=([0-9:]+).*/\1=\2(\4)r\3/p' \
    | sort | tr '\n' ' '
}
status_of() { # status_of DIR -> sets ST_RC and ST_OUT
  ST_RC=0; ST_OUT=$(node bin/geomstream.js status "$1" 2>&1) || ST_RC=$?
}
job_logs() { for f in "$TMP"/jobs/*-"$1"_*.out; do echo "--- $f"; tail -n 8 "$f"; done; }

cat >"$TMP/compare.py" <<'EOF'
"""Compare the sharded dataset with the reference: runs (without wall_time_s) and every part folder, as multisets of rows."""
import os, sys, duckdb

ref, got = sys.argv[1], sys.argv[2]
con = duckdb.connect()
ok = True

def rel(path):
    return f"read_parquet('{path}', union_by_name = true)"

def compare(label, ref_glob, got_glob, exclude=()):
    global ok
    ex = f" EXCLUDE ({', '.join(exclude)})" if exclude else ""
    try:
        con.execute(f"CREATE OR REPLACE TEMP VIEW a AS SELECT *{ex} FROM {rel(ref_glob)}")
        con.execute(f"CREATE OR REPLACE TEMP VIEW b AS SELECT *{ex} FROM {rel(got_glob)}")
    except duckdb.Error as e:
        print(f"  {label}: cannot read: {e}".splitlines()[0]); ok = False; return
    ca = {r[0]: r[1] for r in con.execute("DESCRIBE a").fetchall()}
    cb = {r[0]: r[1] for r in con.execute("DESCRIBE b").fetchall()}
    if ca != cb:
        print(f"  {label}: columns differ: only in reference {sorted(set(ca.items()) - set(cb.items()))}, only in shards {sorted(set(cb.items()) - set(ca.items()))}")
        ok = False; return
    cols = ", ".join(f'"{c}"' for c in ca)
    na = con.execute("SELECT count(*) FROM a").fetchone()[0]
    nb = con.execute("SELECT count(*) FROM b").fetchone()[0]
    # Sorted rows, compared as multisets (EXCEPT ALL: duplicates count; NULL = NULL and NaN = NaN).
    only_a = con.execute(f"SELECT {cols} FROM a EXCEPT ALL SELECT {cols} FROM b ORDER BY ALL").fetchall()
    only_b = con.execute(f"SELECT {cols} FROM b EXCEPT ALL SELECT {cols} FROM a ORDER BY ALL").fetchall()
    if na == nb and not only_a and not only_b:
        print(f"  {label}: {na} rows, equal"); return
    ok = False
    print(f"  {label}: DIFFERENT: {na} rows in the reference, {nb} in the shards; {len(only_a)} only in the reference, {len(only_b)} only in the shards")
    names = list(ca)
    for tag, rows in (("reference", only_a), ("shards", only_b)):
        for r in rows[:3]:
            print(f"    only in {tag}: " + ", ".join(f"{n}={v!r}" for n, v in zip(names, r) if v is not None)[:400])

compare("runs (without wall_time_s)", f"{ref}/runs*.parquet", f"{got}/runs*.parquet", exclude=("wall_time_s",))
for sub in ("metrics", "neurons", "field", "errors"):
    have = [os.path.isdir(f"{d}/{sub}") and any(f.endswith(".parquet") for f in os.listdir(f"{d}/{sub}")) for d in (ref, got)]
    if have == [False, False]:
        continue
    if have != [True, True]:
        print(f"  {sub}/: only in the {'reference' if have[0] else 'shards'}"); ok = False; continue
    compare(f"{sub}/", f"{ref}/{sub}/*.parquet", f"{got}/{sub}/*.parquet")
sys.exit(0 if ok else 1)
EOF

done_in() { # done_in MANIFEST: how many ensembles it records as complete (0 if absent or unreadable)
  python3 -c 'import json, sys
try: print(len(json.load(open(sys.argv[1])).get("ensembles") or []))
except Exception: print(0)' "$1"
}
pick_task() { # pick_task JOBID DIR: sets K to a running task whose shard has a finished ensemble, DONE to how many
  local k m n end=$(( $(date +%s) + 180 ))
  K="" DONE=0
  while (( $(date +%s) < end )); do
    for k in $(seq 0 $((SHARDS - 1))); do
      m=$2/manifest.shard-$k-of-$SHARDS.json
      [[ -f $m ]] || continue
      n=$(done_in "$m")
      if ((n > 0)) && [[ "$(squeue -h -j "${1}_$k" -o %T 2>/dev/null)" == RUNNING ]]; then K=$k DONE=$n; return; fi
    done
    sleep 0.2
  done
  job_logs "$1"; die "no task of job $1 was seen running with a finished ensemble in its shard"
}
check_kept() { # check_kept CASE LOGFILE: the resumed run kept at least the DONE ensembles finished before
  local line kept ok=0
  line=$(grep -h "shard $K/$SHARDS: " "$2" | tail -n 1)  # "... of N runs (K ensembles kept from before, W written now); ..."
  echo "  $line"
  kept=$(sed -nE 's/.*\(([0-9]+) ensembles kept from before.*/\1/p' <<<"$line")
  (( ${kept:-0} >= DONE )) || ok=1
  check "$1: the resumed task kept the ensembles finished before" "$ok" "kept ${kept:-0}, $DONE were finished"
}
check_complete() { # check_complete CASE DIR JOBID...: status exits 0 and the dataset equals the reference
  status_of "$2"
  echo "$ST_OUT" | sed 's/^/  /'
  check "$1: geomstream status exits 0" "$ST_RC" "exit $ST_RC"
  local out rc=0
  out=$(python3 "$TMP/compare.py" "$TMP/ref/$NAME" "$2" 2>&1) || rc=$?
  echo "$out"
  check "$1: the dataset equals the one-process run" "$rc" "see the rows above"
  if ((ST_RC || rc)); then shift 2; for j in "$@"; do job_logs "$j"; done; fi
}

# --- the one-process reference ----------------------------------------------------------------------
log "reference: geomstream run $PIPELINE ${ARGS[*]} --workers 1"
t=$(date +%s)
# In the background, so that a signal to this script is handled at once, not after the run.
node bin/geomstream.js run "$PIPELINE" "${ARGS[@]}" --out "$TMP/ref" --workers 1 --no-progress >"$TMP/log/ref.out" 2>&1 &
REF_PID=$!
wait "$REF_PID" || { tail -n 20 "$TMP/log/ref.out"; die "the reference run failed"; }
REF_PID=""
log "reference done in $(( $(date +%s) - t )) s"

# --- 1. the array job -------------------------------------------------------------------------------
t=$(date +%s)
JOB=$(submit 0-$((SHARDS - 1)) "$TMP/run1")
JOBS+=("$JOB")
log "case 1: array job $JOB (--array=0-$((SHARDS - 1)))"
wait_job "$JOB" 300 || die "job $JOB still running after 300 s"
states=$(task_states "$JOB")
log "case 1: job $JOB done in $(( $(date +%s) - t )) s: $states"
ok=0; for k in $(seq 0 $((SHARDS - 1))); do [[ $states == *"$k=COMPLETED(0:0)"* ]] || ok=1; done
check "case 1: every task completed" "$ok" "$states"
((ok == 0)) || job_logs "$JOB"
check_complete "case 1" "$TMP/run1/$NAME" "$JOB"

# --- 2. cancel one task mid-run, resubmit only it --------------------------------------------------
t=$(date +%s)
DIR=$TMP/run2/$NAME
JOB=$(submit 0-$((SHARDS - 1)) "$TMP/run2")
JOBS+=("$JOB")
log "case 2: array job $JOB; waiting for a running task whose manifest records a finished ensemble"
pick_task "$JOB" "$DIR"
scancel "${JOB}_$K"
log "case 2: scancel ${JOB}_$K (its manifest recorded $DONE finished ensemble(s) of shard $K/$SHARDS)"
wait_job "$JOB" 300 || die "job $JOB still running after 300 s"
states=$(task_states "$JOB")
log "case 2: job $JOB done in $(( $(date +%s) - t )) s: $states"
ok=0; [[ $states == *"$K=CANCELLED"* ]] || ok=1
for k in $(seq 0 $((SHARDS - 1))); do ((k == K)) || [[ $states == *"$k=COMPLETED(0:0)"* ]] || ok=1; done
check "case 2: task $K cancelled, the others completed" "$ok" "$states"
# sweep.sbatch removes the lock a cancelled run leaves (else a requeue onto another node is refused).
lock=$DIR/.geomstream-shard-$K-of-$SHARDS.lock
ok=0; [[ ! -e $lock ]] || ok=1
check "case 2: the cancelled task left no lock" "$ok" "$lock: $(cat "$lock" 2>/dev/null)"
status_of "$DIR"
echo "$ST_OUT" | sed 's/^/  /'
ok=0; [[ $ST_RC -ne 0 ]] || ok=1
check "case 2: geomstream status exits non-zero after the cancel" "$ok" \
  "exit 0: shard $K was complete before the cancel landed (the pipeline is too fast for this machine)"

# A one-task array cannot tell the task its shard: GEOMSTREAM_SHARDS makes the task id the index.
t=$(date +%s)
JOB2=$(submit "$K" "$TMP/run2" --export=ALL,GEOMSTREAM_SHARDS=$SHARDS)
JOBS+=("$JOB2")
log "case 2: resubmitted shard $K as job $JOB2 (--array=$K, GEOMSTREAM_SHARDS=$SHARDS)"
wait_job "$JOB2" 300 || die "job $JOB2 still running after 300 s"
states=$(task_states "$JOB2")
log "case 2: job $JOB2 done in $(( $(date +%s) - t )) s: $states"
ok=0; [[ $states == *"$K=COMPLETED(0:0)"* ]] || ok=1
check "case 2: the resubmitted task completed" "$ok" "$states"
check_kept "case 2" "$TMP/jobs/geomstream-${JOB2}_$K.out"
check_complete "case 2" "$DIR" "$JOB" "$JOB2"

# --- 3. requeue a running task (as preemption or a node failure does): it comes back by itself ------
t=$(date +%s)
DIR=$TMP/run3/$NAME
JOB=$(submit 0-$((SHARDS - 1)) "$TMP/run3")
JOBS+=("$JOB")
log "case 3: array job $JOB; waiting for a running task whose manifest records a finished ensemble"
pick_task "$JOB" "$DIR"
scontrol requeue "${JOB}_$K"
log "case 3: scontrol requeue ${JOB}_$K (its manifest recorded $DONE finished ensemble(s) of shard $K/$SHARDS)"
wait_job "$JOB" 300 || die "job $JOB still running after 300 s"
states=$(task_states "$JOB")
log "case 3: job $JOB done in $(( $(date +%s) - t )) s: $states"
ok=0; [[ $states == *"$K=COMPLETED(0:0)r1"* ]] || ok=1
for k in $(seq 0 $((SHARDS - 1))); do [[ $states == *"$k=COMPLETED(0:0)"* ]] || ok=1; done
check "case 3: every task completed, task $K on its second attempt" "$ok" "$states"
LOGFILE=$TMP/jobs/geomstream-${JOB}_$K.out
n=$(grep -c '^sweep.sbatch: job' "$LOGFILE" || true)
ok=0; [[ $n -eq 2 ]] || ok=1
check "case 3: both attempts in the task's log (--open-mode=append)" "$ok" "$n attempt(s) in $LOGFILE"
check_kept "case 3" "$LOGFILE"
check_complete "case 3" "$DIR" "$JOB"

# --- summary --------------------------------------------------------------------------------------------
fails=0
echo
echo "deploy/slurm/test-local.sh: $PIPELINE ${ARGS[*]}, $SHARDS shards, $(( $(date +%s) - T0 )) s"
for c in "${CHECKS[@]}"; do echo "  $c"; [[ $c == PASS* ]] || fails=$((fails + 1)); done
if ((fails)); then echo "$fails check(s) failed"; exit 1; fi
echo "all ${#CHECKS[@]} checks passed"
