#!/usr/bin/env bash
# Fork+exec storm benchmark: what does watching every exec cost the machine?
#
# Runs bench/storm.c (parallel posix_spawn loops of /bin/true) with no tracer
# and under each exec tracer: vigil, vigil making a detection of every storm
# exec (vigil-detect), bpftrace and auditd. Every tracer run gets a baseline
# run of its own, right next to it (a pair), and the order inside the pairs
# alternates from one round to the next:
#
#   round 1: none vigil   none vigil-detect   none bpftrace   none auditd
#   round 2: vigil none   vigil-detect none   bpftrace none   auditd none
#   ...
#
# Before each pair it waits for other work on the machine to calm down, and
# it runs a pair that other work disturbed again. bench/README.md explains
# how it measures, and every column.
#
# This script drives the machine: it sets the tracers up, runs the storms,
# reads the raw numbers (/proc, bpftool, the tracers' logs and outputs) and
# puts back what it changed (audit rule, settings and daemon,
# kernel.bpf_stats_enabled, tracefs mount) when it exits, failure and
# Ctrl-C included. The arithmetic (each run's figures, the pairs' ratios,
# which pairs were disturbed, the summary) is bench/benchreport's, which it
# builds first. Needs root; missing tools are installed with apt-get, and a
# configuration that cannot work here is reported as unavailable, with the
# reason, while the rest runs.
set -euo pipefail

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_DIR=$(dirname "$BENCH_DIR")

# Settings: environment variables, overridden by flags.
ROUNDS=${ROUNDS:-5}
DURATION=${DURATION:-5}
JOBS=${JOBS:-$(getconf _NPROCESSORS_ONLN)}
VIGIL=${VIGIL:-}
CONFIGS=${CONFIGS:-none vigil vigil-detect bpftrace auditd}
OUT=${OUT:-/tmp/vigil-bench-$(date +%Y%m%d-%H%M%S).tsv}
PAUSE=${PAUSE:-1}
WARMUP=${WARMUP:-3}
KEEP_WORK=${KEEP_WORK:-0}
QUIET=${QUIET:-10}
QUIET_WAIT=${QUIET_WAIT:-300}
RETRIES=${RETRIES:-2}

usage() {
	cat <<EOF
usage: bench/run.sh [options]   (as root)

  --rounds N      rounds; each pairs every tracer with a baseline  (ROUNDS, default 5)
  --duration S    seconds of storm per run                         (DURATION, default 5)
  --jobs N        parallel spawn loops of the storm                (JOBS, default: online cores)
  --vigil PATH    vigil binary to measure                          (VIGIL, default: go build the repo)
  --configs LIST  configurations; the tracers run in this order,   (CONFIGS)
                  each paired with a "none" run if "none" is listed;
                  default "none vigil vigil-detect bpftrace auditd"
  --out FILE      raw per-run results, tab-separated               (OUT, default /tmp/vigil-bench-DATE.tsv)
  --pause S       idle seconds between runs                        (PAUSE, default 1)
  --warmup S      seconds of unrecorded storm before round 1       (WARMUP, default 3; 0: none)
  --quiet PCT     other work allowed, % of the machine's CPU       (QUIET, default 10; 0: no check)
                  wait for it to fall below PCT before each pair; a pair
                  during which it rose above PCT is "disturbed", left out of
                  the medians and run again
  --quiet-wait S  longest wait for a quiet machine, then go on     (QUIET_WAIT, default 300)
  --retries N     extra tries of a disturbed pair                  (RETRIES, default 2)
  --keep          keep the work folder (tracer logs)               (KEEP_WORK=1)
EOF
}

while (($#)); do
	case $1 in
	--rounds) ROUNDS=$2; shift 2 ;;
	--duration) DURATION=$2; shift 2 ;;
	--jobs) JOBS=$2; shift 2 ;;
	--vigil) VIGIL=$2; shift 2 ;;
	--configs) CONFIGS=$2; shift 2 ;;
	--out) OUT=$2; shift 2 ;;
	--pause) PAUSE=$2; shift 2 ;;
	--warmup) WARMUP=$2; shift 2 ;;
	--quiet) QUIET=$2; shift 2 ;;
	--quiet-wait) QUIET_WAIT=$2; shift 2 ;;
	--retries) RETRIES=$2; shift 2 ;;
	--keep) KEEP_WORK=1; shift ;;
	-h | --help) usage; exit 0 ;;
	*) usage >&2; exit 2 ;;
	esac
done

log() { printf '%s\n' "$*" >&2; }
die() { log "run.sh: $*"; exit 1; }

[[ $ROUNDS =~ ^[1-9][0-9]*$ ]] || die "--rounds wants a positive integer"
[[ $JOBS =~ ^[1-9][0-9]*$ ]] || die "--jobs wants a positive integer"
[[ $DURATION =~ ^[0-9]+([.][0-9]+)?$ ]] || die "--duration wants a number of seconds"
[[ $PAUSE =~ ^[0-9]+([.][0-9]+)?$ ]] || die "--pause wants a number of seconds"
[[ $QUIET =~ ^[0-9]+$ ]] || die "--quiet wants a whole percentage"
[[ $QUIET_WAIT =~ ^[0-9]+$ ]] || die "--quiet-wait wants a whole number of seconds"
[[ $RETRIES =~ ^[0-9]+$ ]] || die "--retries wants a number"
[[ $WARMUP =~ ^[0-9]+([.][0-9]+)?$ ]] || die "--warmup wants a number of seconds"
read -r -a CONFIG_LIST <<<"$CONFIGS"
for cfg in "${CONFIG_LIST[@]}"; do
	case $cfg in none | vigil | vigil-detect | bpftrace | auditd) ;; *) die "unknown configuration: $cfg" ;; esac
done
((EUID == 0)) || die "needs root (BPF, audit, sysctl)"

WORK=$(mktemp -d /tmp/vigil-bench.XXXXXX)

# ---------------------------------------------------------------------------
# Machine state we may change, and its restoration.

TRACER_PID=""       # the tracer this script started and has not stopped yet
BPF_STATS_SAVED=$(sysctl -n kernel.bpf_stats_enabled)
TRACEFS_MOUNTED=0   # 1 once this script mounted tracefs for bpftrace
AUDIT_SAVED=""      # "enabled backlog_limit backlog_wait_time" before any change
AUDIT_RULE=("always,exit" -F arch=b64 -S execve -k vigil-bench)
AUDIT_RULE_SET=0

audit_status() { # KEY: one field of `auditctl -s` ("KEY VALUE" lines)
	auditctl -s | sed -n "s/^$1 \([^ ]*\).*/\1/p"
}

restore_audit() {
	local enabled backlog wait_time
	read -r enabled backlog wait_time <<<"$AUDIT_SAVED"
	auditctl -b "$backlog" --backlog_wait_time "$wait_time" >/dev/null
	# auditd leaves the kernel's audit switch on when it exits here.
	[[ $(audit_status enabled) == "$enabled" ]] || auditctl -e "$enabled" >/dev/null
}

cleanup() {
	local rc=$?
	set +e
	if [[ -n $TRACER_PID ]]; then
		kill -TERM "$TRACER_PID" 2>/dev/null
		wait "$TRACER_PID" 2>/dev/null
	fi
	((AUDIT_RULE_SET)) && auditctl -d "${AUDIT_RULE[@]}" >/dev/null 2>&1
	[[ -n $AUDIT_SAVED ]] && restore_audit
	sysctl -qw kernel.bpf_stats_enabled="$BPF_STATS_SAVED"
	((TRACEFS_MOUNTED)) && umount /sys/kernel/tracing
	if ((KEEP_WORK)); then log "work folder kept: $WORK"; else rm -rf "$WORK"; fi
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ---------------------------------------------------------------------------
# Tools.

APT_UPDATED=0
apt_install() { # PACKAGE...: install, waiting for another apt to finish
	local apt=(apt-get -o DPkg::Lock::Timeout=300 -qq)
	if ((!APT_UPDATED)); then
		"${apt[@]}" update >>"$WORK/apt.log" 2>&1 || return 1
		APT_UPDATED=1
	fi
	DEBIAN_FRONTEND=noninteractive "${apt[@]}" install -y "$@" >>"$WORK/apt.log" 2>&1
}

need() { # COMMAND PACKAGE: true once COMMAND is there, installing PACKAGE if not
	command -v "$1" >/dev/null && return 0
	log "installing $2 (for $1)"
	apt_install "$2" && command -v "$1" >/dev/null
}

declare -A UNAVAILABLE=() # configuration -> why it cannot run here

# go_build PACKAGE OUTPUT: build a package of this repository, saying in
# BUILT_FROM what was built. The working tree may be mid-edit by someone
# else: retry once after a minute, then build the last commit, cloned aside.
BUILT_FROM=""
go_build() {
	local attempt
	for attempt in 1 2; do
		if (cd "$REPO_DIR" && go build -o "$2" "$1") 2>"$WORK/go-build.log"; then
			BUILT_FROM="working tree at $(git -C "$REPO_DIR" describe --always --dirty 2>/dev/null || echo '?')"
			return
		fi
		if ((attempt == 1)); then
			log "go build $1 of the working tree failed; retrying in 60 s:"
			tail -n 5 "$WORK/go-build.log" >&2
			sleep 60
		fi
	done
	log "go build $1 failed again; building the last commit from a clone"
	[[ -d $WORK/src ]] || git clone -q "$REPO_DIR" "$WORK/src" || return 1
	(cd "$WORK/src" && go build -o "$2" "$1") 2>"$WORK/go-build.log" || return 1
	BUILT_FROM="last commit $(git -C "$WORK/src" rev-parse --short HEAD)"
}

# The figures are benchreport's.
command -v go >/dev/null || die "no go toolchain to build bench/benchreport (and vigil)"
REPORT=$WORK/benchreport
go_build ./bench/benchreport "$REPORT" || die "cannot build bench/benchreport: $(tail -n 1 "$WORK/go-build.log")"

STORM=$WORK/storm
CPUCLOCK=$WORK/cpuclock
need cc gcc || die "no C compiler, and gcc could not be installed"
cc -O2 -Wall -Werror -o "$STORM" "$BENCH_DIR/storm.c"
cc -O2 -Wall -Werror -o "$CPUCLOCK" "$BENCH_DIR/cpuclock.c"
# The storm runs /bin/true through a symlink of its own: the same program,
# but a path (exec filename, argv[0]) that tells the storm's execs from
# anyone else's /bin/true in what the tracers report.
STORM_PROG=$WORK/true
ln -s /bin/true "$STORM_PROG"

# bpftool reads the BPF run-time counters.
BPF_STATS=1
if ! need bpftool bpftool; then
	BPF_STATS=0
	log "bpftool missing: BPF run time will not be measured"
fi

has_config() { [[ " ${CONFIG_LIST[*]} " == *" $1 "* ]]; }

VIGIL_BIN=""
VIGIL_FROM=""
prepare_vigil() {
	if [[ -n $VIGIL ]]; then
		[[ -x $VIGIL ]] || { UNAVAILABLE[vigil]="$VIGIL is not an executable"; return; }
		VIGIL_BIN=$VIGIL
		VIGIL_FROM="given binary $VIGIL"
		return
	fi
	if go_build ./cmd/vigil "$WORK/vigil"; then
		VIGIL_BIN=$WORK/vigil
		VIGIL_FROM=$BUILT_FROM
		return
	fi
	UNAVAILABLE[vigil]="go build failed: $(tail -n 1 "$WORK/go-build.log")"
}

# vigil-detect: vigil with the built-in catalog and one recipe more, which
# matches every exec of the storm's program and has no report limit, so that
# every storm exec is a detection. The program is /bin/true resolved, so the
# recipe asks for the path the storm execs, STORM_PROG; its tests, and so its
# loading, are checked before any run.
DETECT_RECIPE=bench_storm_exec
DETECT_RECIPES=$WORK/recipes
prepare_vigil_detect() {
	if [[ -z $VIGIL_BIN ]]; then
		UNAVAILABLE[vigil-detect]=${UNAVAILABLE[vigil]:-no vigil binary}
		return
	fi
	mkdir "$DETECT_RECIPES"
	cat >"$DETECT_RECIPES/bench.yaml" <<EOF
recipes:
  - name: $DETECT_RECIPE
    version: 1
    description: An exec of the storm benchmark's program, so that every storm exec is a detection
    tactic: {id: TA0002, name: Execution}
    technique: {id: T1059, name: Command and Scripting Interpreter}
    importance: low
    match:
      executable: {name: "true"}
      cel: 'filename == "$STORM_PROG"'
    tests:
      - name: the storm's exec
        match: true
        exec: {exe: /usr/bin/true, filename: "$STORM_PROG", args: ["$STORM_PROG"]}
      - name: anyone else's true
        match: false
        exec: {exe: /usr/bin/true, filename: /bin/true, args: ["true"]}
EOF
	if ! "$VIGIL_BIN" recipes test "$DETECT_RECIPES" >"$WORK/recipes-test.log" 2>&1; then
		UNAVAILABLE[vigil-detect]="its recipe does not load or pass its tests: $(head -n 1 "$WORK/recipes-test.log")"
	fi
}

prepare_bpftrace() {
	if ! need bpftrace bpftrace; then
		UNAVAILABLE[bpftrace]="bpftrace could not be installed (see apt log)"
		return
	fi
	# bpftrace resolves tracepoints through tracefs, which this machine may
	# not mount; mount it for the run and unmount it at the end.
	if [[ ! -d /sys/kernel/tracing/events/sched ]]; then
		if mount -t tracefs nodev /sys/kernel/tracing 2>"$WORK/mount.log"; then
			TRACEFS_MOUNTED=1
		else
			UNAVAILABLE[bpftrace]="tracefs is not mounted and cannot be: $(head -n 1 "$WORK/mount.log")"
			return
		fi
	fi
	[[ -d /sys/kernel/tracing/events/sched/sched_process_exec ]] ||
		UNAVAILABLE[bpftrace]="no sched:sched_process_exec tracepoint in tracefs"
}

AUDIT_OWN_DAEMON=1 # 0: an audit daemon already runs and is used as it is
AUDIT_LOG=""
KAUDITD_PID=""
prepare_auditd() {
	if ! need auditd auditd || ! need auditctl auditd; then
		UNAVAILABLE[auditd]="auditd could not be installed (see apt log)"
		return
	fi
	local status
	if ! status=$(auditctl -s 2>&1); then
		UNAVAILABLE[auditd]="the kernel audit interface refuses: ${status%%$'\n'*}"
		return
	fi
	local enabled pid
	enabled=$(audit_status enabled)
	pid=$(audit_status pid)
	if [[ $enabled == 2 ]]; then
		UNAVAILABLE[auditd]="audit settings are locked (enabled 2) until reboot"
		return
	fi
	AUDIT_SAVED="$enabled $(audit_status backlog_limit) $(audit_status backlog_wait_time)"
	KAUDITD_PID=$(pgrep -x kauditd | head -n 1 || true)

	if [[ $pid != 0 ]]; then
		# Installing the package under systemd starts auditd.service (which
		# refuses a manual stop). Use that daemon as it is, reading its log.
		AUDIT_OWN_DAEMON=0
		AUDIT_LOG=$(sed -n 's/^log_file *= *//p' /etc/audit/auditd.conf)
		AUDIT_LOG=${AUDIT_LOG:-/var/log/audit/audit.log}
		log "auditd: an audit daemon already runs (pid $pid); measuring it, without stopping it"
		return
	fi
	# Otherwise run a daemon of our own, whatever PID 1 is: started directly
	# per run, with a private configuration so its log (a few MB per run)
	# stays in the work folder and never rotates mid-run.
	if [[ $(cat /proc/1/comm) == systemd ]]; then
		log "auditd: systemd is PID 1 but auditd.service is not running; starting auditd directly"
	else
		log "auditd: PID 1 is $(cat /proc/1/comm), not systemd; starting auditd directly"
	fi
	mkdir -m 700 "$WORK/audit"
	AUDIT_LOG=$WORK/audit/audit.log
	# Debian's defaults, but the log in the work folder and never rotated.
	cat >"$WORK/audit/auditd.conf" <<EOF
local_events = yes
write_logs = yes
log_file = $AUDIT_LOG
log_format = ENRICHED
flush = INCREMENTAL_ASYNC
freq = 50
max_log_file_action = IGNORE
space_left = 75
space_left_action = SYSLOG
admin_space_left = 50
admin_space_left_action = SUSPEND
disk_full_action = SUSPEND
disk_error_action = SUSPEND
q_depth = 2000
overflow_action = SYSLOG
EOF
	chmod 600 "$WORK/audit/auditd.conf"
}

if has_config vigil || has_config vigil-detect; then
	prepare_vigil
fi
has_config vigil-detect && prepare_vigil_detect
has_config bpftrace && prepare_bpftrace
has_config auditd && prepare_auditd

# ---------------------------------------------------------------------------
# Measuring one run.

# Filled by run_one and the start_*/stop_* functions of the configuration
# running now.
CPU_PIDS=()  # processes whose CPU time is the tracer's
PROG_IDS=()  # the tracer's BPF programs
START_ERR="" # why the tracer did not start
# The run's record for benchreport: KEY=VALUE fields (bench/benchreport
# lists them), no tab or newline in any value. A pair's records go to the
# file RECORDS, which stays in the work folder (--keep).
RECORD=()
RECORDS=""

# Poll CONDITION... every 0.1 s for at most SECONDS while the tracer lives.
wait_for() {
	local deadline=$((SECONDS + $1))
	shift
	until "$@"; do
		kill -0 "$TRACER_PID" 2>/dev/null || return 1
		((SECONDS < deadline)) || return 1
		sleep 0.1
	done
}

# Reap a tracer that did not come up, keeping the end of its log as reason.
abandon_tracer() { # LOGFILE
	local how="exit status" status=0
	if kill -TERM "$TRACER_PID" 2>/dev/null; then
		how="not ready in time; killed, status"
	fi
	wait "$TRACER_PID" 2>/dev/null || status=$?
	TRACER_PID=""
	# bpftrace always complains about RLIMIT_MEMLOCK here, harmlessly.
	START_ERR=$({ grep -v 'RLIMIT_MEMLOCK' "$1" || true; } | tail -n 2 | tr '\n\t' '  ')
	START_ERR="${START_ERR:+$START_ERR }($how $status)"
}

# vigil: the whole machine, detections thrown away. Its exit summary on
# stderr has its events and drops.
start_vigil() {
	RUN_LOG=$WORK/$RUN_NAME.err
	"$VIGIL_BIN" run --jsonl /dev/null 2>"$RUN_LOG" &
	TRACER_PID=$!
	CPU_PIDS=("$TRACER_PID")
	wait_for 60 grep -q 'watching the machine' "$RUN_LOG" || { abandon_tracer "$RUN_LOG"; return 1; }
}
stop_vigil() {
	kill -INT "$TRACER_PID" 2>/dev/null || true
	wait "$TRACER_PID" || log "vigil exited with status $?"
	TRACER_PID=""
	RECORD+=("vigil_log=$RUN_LOG")
}

# vigil-detect: the same, with the storm's recipe, each detection written as
# a JSON line to a file (as bpftrace writes its line per exec). Its exit
# summary has its detections of the storm's execs.
start_vigil_detect() {
	RUN_LOG=$WORK/$RUN_NAME.err
	"$VIGIL_BIN" run --recipes "$DETECT_RECIPES" --jsonl "$WORK/$RUN_NAME.jsonl" 2>"$RUN_LOG" &
	TRACER_PID=$!
	CPU_PIDS=("$TRACER_PID")
	wait_for 60 grep -q 'watching the machine' "$RUN_LOG" || { abandon_tracer "$RUN_LOG"; return 1; }
}
stop_vigil_detect() {
	stop_vigil
	RECORD+=("detect_recipe=$DETECT_RECIPE")
}

# bpftrace: one printf per exec, to a file that is counted afterwards.
BPFTRACE_PROG='tracepoint:sched:sched_process_exec { printf("%d %s\n", pid, str(args->filename)); }'
start_bpftrace() {
	RUN_LOG=$WORK/$RUN_NAME.err
	RUN_OUT=$WORK/$RUN_NAME.out
	bpftrace -e "$BPFTRACE_PROG" >"$RUN_OUT" 2>"$RUN_LOG" &
	TRACER_PID=$!
	CPU_PIDS=("$TRACER_PID")
	# "Attaching 1 probe..." comes before the attach; an event line after it
	# (the polling's own `sleep` execs) proves the probe fires.
	wait_for 60 bpftrace_ready || { abandon_tracer "$RUN_LOG"; return 1; }
}
bpftrace_ready() { (($(wc -l <"$RUN_OUT") >= 2)); }
stop_bpftrace() {
	kill -INT "$TRACER_PID" 2>/dev/null || true
	wait "$TRACER_PID" || log "bpftrace exited with status $?"
	TRACER_PID=""
	RECORD+=("bpftrace_out=$RUN_OUT" "bpftrace_log=$RUN_LOG")
}

# auditd: a syscall rule on execve, the daemon writing every record to disk.
AUDIT_LOST_BEFORE=0
AUDIT_LOG_OFFSET=0
start_auditd() {
	RUN_LOG=$WORK/$RUN_NAME.err
	if ((AUDIT_OWN_DAEMON)); then
		: >"$AUDIT_LOG"
		AUDIT_LOG_OFFSET=0
		auditd -n -c "$WORK/audit" 2>"$RUN_LOG" &
		TRACER_PID=$!
		wait_for 30 auditd_registered || { abandon_tracer "$RUN_LOG"; return 1; }
		CPU_PIDS=("$TRACER_PID")
	else
		AUDIT_LOG_OFFSET=$(stat -c %s "$AUDIT_LOG")
		CPU_PIDS=("$(audit_status pid)")
	fi
	# kauditd is the kernel thread that hands records to the daemon: its
	# time is spent for auditd alone.
	[[ -n $KAUDITD_PID ]] && CPU_PIDS+=("$KAUDITD_PID")
	# The backlog Debian's packaged rules (audit.rules) set.
	if ! auditctl -b 8192 --backlog_wait_time 60000 >"$WORK/auditctl.log" 2>&1 ||
		! auditctl -a "${AUDIT_RULE[@]}" >>"$WORK/auditctl.log" 2>&1; then
		[[ -n $TRACER_PID ]] && abandon_tracer "$RUN_LOG"
		START_ERR="auditctl: $(tail -n 1 "$WORK/auditctl.log")"
		restore_audit || true
		return 1
	fi
	AUDIT_RULE_SET=1
	AUDIT_LOST_BEFORE=$(audit_status lost)
}
auditd_registered() { [[ $(audit_status pid) == "$TRACER_PID" ]]; }
stop_auditd() {
	# The kernel's audit "lost" counter: records it could not hand over.
	RECORD+=("drops=$(($(audit_status lost) - AUDIT_LOST_BEFORE))")
	auditctl -d "${AUDIT_RULE[@]}" >/dev/null
	AUDIT_RULE_SET=0
	if ((AUDIT_OWN_DAEMON)); then
		kill -TERM "$TRACER_PID" 2>/dev/null || true
		wait "$TRACER_PID" || log "auditd exited with status $?"
		TRACER_PID=""
	fi
	restore_audit
	# The run's records: the log from where it stood when the rule was added.
	RECORD+=("audit_log=$AUDIT_LOG" "audit_from=$AUDIT_LOG_OFFSET" "audit_to=$(stat -c %s "$AUDIT_LOG")")
}

# The machine's busy time and the storm's (busy_ticks_now,
# children_ticks_now, NCPU, CLK_TCK).
# shellcheck source=bench/proctime.sh
source "$BENCH_DIR/proctime.sh"

# CPU nanoseconds of CPU_PIDS, added up (in bash: 64-bit integers).
cpu_ns() {
	local lines pid ns total=0
	lines=$("$CPUCLOCK" "${CPU_PIDS[@]}") || return 1
	while read -r pid ns; do
		total=$((total + ns))
	done <<<"$lines"
	echo "$total"
}

# The BPF programs the tracer holds: every prog_id in its fdinfo (program fds
# and link fds). This bpftool does not list owning pids itself.
find_prog_ids() {
	local fd key val
	declare -A seen=()
	for fd in /proc/"$TRACER_PID"/fdinfo/*; do
		# An fd may close under us: skip it.
		while read -r key val; do
			[[ $key == prog_id: ]] && seen[$val]=1
		done 2>/dev/null <"$fd" || true
	done
	PROG_IDS=("${!seen[@]}")
}

# After the storm, let the tracer drain what is queued: wait until its CPU
# time grows by less than 2 ms in 0.2 s, for at most 4 s.
settle() {
	local before after i
	before=$(cpu_ns)
	for ((i = 0; i < 20; i++)); do
		sleep 0.2
		after=$(cpu_ns)
		((after - before < 2000000)) && return
		before=$after
	done
}

# run_one CONFIG ROUND PAIR POSITION: one storm; its record is appended to
# RECORDS. Returns 1 when the tracer did not start (the
# configuration is then unavailable).
declare -A RAN=() # configuration -> 1 once it has a row in the results
run_one() {
	local cfg=$1 round=$2 pair=$3 pos=$4
	RUN_NAME=r$round-p$pair-$cfg
	CPU_PIDS=() PROG_IDS=() START_ERR=""
	RECORD=("round=$round" "pair=$pair" "config=$cfg" "position=$pos")
	RAN[$cfg]=1

	if [[ $cfg != none ]] && ! "start_${cfg//-/_}"; then
		UNAVAILABLE[$cfg]="did not start: $START_ERR"
		RECORD+=(status=unavailable "note=${UNAVAILABLE[$cfg]}")
		add_record
		return 1
	fi

	local measure_bpf=0
	if [[ $cfg != none && -n $TRACER_PID ]]; then
		find_prog_ids
		if ((BPF_STATS && ${#PROG_IDS[@]} > 0)); then
			measure_bpf=1
			sysctl -qw kernel.bpf_stats_enabled=1
		fi
	fi

	# The measured window: from before the storm until the tracer has
	# drained what the storm queued.
	local cpu0=0 cpu1 cpu_mid
	RECORD+=("window_start=$EPOCHREALTIME")
	[[ $cfg != none ]] && cpu0=$(cpu_ns)
	((measure_bpf)) && bpftool prog show --json >"$WORK/$RUN_NAME.bpf0"

	local result busy0 busy1 storm0 storm1
	busy_ticks_now busy0
	children_ticks_now storm0
	result=$("$STORM" -j "$JOBS" -d "$DURATION" -p "$STORM_PROG")
	busy_ticks_now busy1
	children_ticks_now storm1
	RECORD+=("storm=$result" "busy_ticks=$((busy1 - busy0))" "storm_ticks=$((storm1 - storm0))")

	local status=ok
	if [[ $cfg != none ]]; then
		if ! kill -0 "${CPU_PIDS[0]}" 2>/dev/null; then
			status=failed
			RECORD+=("note=tracer died during the storm")
		else
			if cpu_mid=$(cpu_ns); then
				RECORD+=("tracer_storm_ns=$((cpu_mid - cpu0))")
			fi
			settle
			cpu1=$(cpu_ns)
			RECORD+=("tracer_ns=$((cpu1 - cpu0))" "window_end=$EPOCHREALTIME")
		fi
		if ((measure_bpf)); then
			bpftool prog show --json >"$WORK/$RUN_NAME.bpf1"
			sysctl -qw kernel.bpf_stats_enabled="$BPF_STATS_SAVED"
			RECORD+=("bpf_progs=$(IFS=,; echo "${PROG_IDS[*]}")" "bpf_before=$WORK/$RUN_NAME.bpf0" "bpf_after=$WORK/$RUN_NAME.bpf1")
		fi
		# Its memory (peak and anonymous resident set), just before it stops.
		if cp "/proc/${CPU_PIDS[0]}/status" "$WORK/$RUN_NAME.status" 2>/dev/null; then
			RECORD+=("proc_status=$WORK/$RUN_NAME.status")
		fi
		"stop_${cfg//-/_}"
	fi
	RECORD+=("status=$status")
	add_record
}

add_record() {
	local IFS=$'\t'
	echo "${RECORD[*]}" >>"$RECORDS"
}

# report_runs: the rows of the records in RECORDS, appended to the results
# and printed; status 3 when other work disturbed the pair.
report_runs() {
	"$REPORT" runs -out "$OUT" -rounds "$ROUNDS" -quiet "$QUIET" -cpus "$NCPU" -configs "$CONFIGS" \
		-clock-ticks "$CLK_TCK" -storm-prog "$STORM_PROG" -audit-key vigil-bench <"$RECORDS"
}

# run_pair ROUND PAIR CONFIG...: the runs of one pair (or a lone run), one
# after the other, then their rows once all are done (a tracer's ratio to
# the baseline of its pair is known only then). A tracer that does not
# start skips the baseline that would have followed it, but not one that
# already ran. Returns 2 when the pair was disturbed.
PAIR=0
run_pair() {
	local round=$1 cfg pos=0 rc=0
	PAIR=$((PAIR + 1))
	shift
	RECORDS=$WORK/pair$PAIR.records
	for cfg; do
		pos=$((pos + 1))
		if ! run_one "$cfg" "$round" "$PAIR" "$pos"; then
			break
		fi
		sleep "$PAUSE"
	done
	report_runs || rc=$?
	# Counted: bpftrace's output, vigil-detect's detections and our audit
	# daemon's log (a few MB a run) are not kept.
	rm -f "$WORK"/*.out "$WORK"/*.jsonl
	if ((AUDIT_OWN_DAEMON)) && [[ -n $AUDIT_LOG ]]; then
		: >"$AUDIT_LOG"
	fi
	case $rc in
	0) return 0 ;;
	3) return 2 ;;
	*) die "bench/benchreport failed on pair $PAIR (records: $RECORDS, --keep)" ;;
	esac
}

# Wait until other work takes less than QUIET % of the machine's CPU over a
# second, for at most QUIET_WAIT seconds. Nothing of this script runs then.
wait_quiet() {
	((QUIET > 0)) || return 0
	local start=$SECONDS b0 b1 pct said=0
	while :; do
		busy_ticks_now b0
		sleep 1
		busy_ticks_now b1
		pct=$((100 * (b1 - b0) / (NCPU * CLK_TCK)))
		((pct < QUIET)) && break
		if ((SECONDS - start >= QUIET_WAIT)); then
			log "the machine is still busy ($pct% of its CPU) after ${QUIET_WAIT}s; going on"
			break
		fi
		((said)) || log "waiting for other work to fall below $QUIET% of the machine's CPU (now $pct%)"
		said=1
	done
	((!said)) || log "waited $((SECONDS - start))s for a quiet machine"
}

# pair ROUND CONFIG...: run_pair, after a wait for a quiet machine, and again
# while it comes out disturbed, RETRIES times at most.
pair() {
	local attempt rc
	for ((attempt = 0; attempt <= RETRIES; attempt++)); do
		wait_quiet
		rc=0
		run_pair "$@" || rc=$?
		((rc == 2)) || return 0
		((attempt < RETRIES)) && log "pair $PAIR was disturbed by other work; running it again"
	done
	return 0
}

# ---------------------------------------------------------------------------
# The rounds.

TRACERS=()
HAS_NONE=0
for cfg in "${CONFIG_LIST[@]}"; do
	if [[ $cfg == none ]]; then
		HAS_NONE=1
	elif [[ " ${TRACERS[*]} " != *" $cfg "* ]]; then
		TRACERS+=("$cfg")
	fi
done
if ((HAS_NONE && ${#TRACERS[@]})); then
	PLAN="${#TRACERS[@]} pairs, order alternating: ${TRACERS[*]/#/none+}"
	((${#TRACERS[@]} > 1)) || PLAN=${PLAN/pairs/pair}
elif ((HAS_NONE)); then
	PLAN="none"
else
	PLAN="${TRACERS[*]}, no baseline"
fi

mkdir -p "$(dirname "$OUT")"
{
	echo "# vigil fork+exec storm benchmark, bench/run.sh"
	echo "# date $(date -u +%Y-%m-%dT%H:%M:%SZ), kernel $(uname -r), $(getconf _NPROCESSORS_ONLN) cores, load average at start $(cut -d' ' -f1-3 /proc/loadavg)"
	echo "# storm: $JOBS parallel posix_spawn loops of /bin/true, $DURATION s per run, $PAUSE s pause; $ROUNDS rounds of $PLAN; $WARMUP s warm-up"
	echo "# quiet: other work under $QUIET% of the CPU (0: not checked), waited for up to $QUIET_WAIT s before each pair; a disturbed pair is run again up to $RETRIES times"
	echo "# vigil: ${VIGIL_FROM:-not measured}"
	"$REPORT" columns
} >"$OUT"

for cfg in "${CONFIG_LIST[@]}"; do
	[[ -n ${UNAVAILABLE[$cfg]:-} ]] && log "$cfg: unavailable: ${UNAVAILABLE[$cfg]}"
done
log "storm: $JOBS loops x $DURATION s; $ROUNDS rounds of $PLAN; vigil: ${VIGIL_FROM:-not measured}"
log "load average now: $(cut -d' ' -f1-3 /proc/loadavg) (other work on the machine skews the figures)"

# The first storm after a quiet spell can run faster than those after it
# (in a trial here, round 1's baseline ran 30% above the others'); an
# unrecorded storm first keeps that out of the figures.
if [[ $WARMUP != 0 ]]; then
	"$STORM" -j "$JOBS" -d "$WARMUP" -p "$STORM_PROG" >/dev/null
	sleep "$PAUSE"
fi

available_tracers() { # the tracers still available, one a line
	local cfg
	for cfg in "${TRACERS[@]}"; do
		[[ -z ${UNAVAILABLE[$cfg]:-} ]] && echo "$cfg"
	done
	return 0
}

for ((round = 1; round <= ROUNDS; round++)); do
	if [[ -z $(available_tracers) ]]; then
		# No tracer (left) to measure: the baseline alone, if it is wanted.
		((HAS_NONE)) && pair "$round" none
		continue
	fi
	for cfg in "${TRACERS[@]}"; do
		[[ -n ${UNAVAILABLE[$cfg]:-} ]] && continue
		if ((!HAS_NONE)); then
			pair "$round" "$cfg"
		elif ((round % 2)); then
			pair "$round" none "$cfg"
		else
			pair "$round" "$cfg" none
		fi
	done
done

# Configurations that never got to run still get a row in the results.
RECORDS=$WORK/never-ran.records
: >"$RECORDS"
for cfg in "${CONFIG_LIST[@]}"; do
	if [[ -n ${UNAVAILABLE[$cfg]:-} && -z ${RAN[$cfg]:-} ]]; then
		RECORD=(round=- pair=- "config=$cfg" position=- status=unavailable "note=${UNAVAILABLE[$cfg]}")
		add_record
		RAN[$cfg]=1
	fi
done
report_runs

echo
"$REPORT" summary -configs "${CONFIG_LIST[*]}" "$OUT"
echo
echo "raw results: $OUT"
