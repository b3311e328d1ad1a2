#!/usr/bin/env bash
# Fork+exec storm benchmark: what does watching every exec cost the machine?
#
# Runs bench/storm.c (parallel posix_spawn loops of /bin/true) with no tracer
# and under each exec tracer. Every tracer run gets a baseline run of its
# own, right next to it (a pair), and the order inside the pairs alternates
# from one round to the next:
#
#   round 1: none vigil   none bpftrace   none auditd
#   round 2: vigil none   bpftrace none   auditd none
#   round 3: none vigil   none bpftrace   none auditd
#   ...
#
# A tracer's ratio is its rate over the baseline of its own pair: the drift
# of this machine's exec rate hits both runs of a pair alike, and whatever
# favours the first (or the second) run of a pair favours the tracer in half
# the rounds and the baseline in the other half. For every run it measures
# the exec rate, the tracer's CPU time while the storm ran (its whole
# process, all threads), the run time of the tracer's BPF programs
# (kernel.bpf_stats_enabled), and the events the tracer received and
# dropped. Before each pair it waits for other work on the machine to calm
# down; a pair during which other work took more than --quiet % of the CPU
# is marked disturbed, kept out of the medians and run again.
# bench/README.md explains every column.
#
# Needs root. Missing tools are installed with apt-get; a configuration that
# cannot work here is reported as unavailable, with the reason, and the rest
# still runs. Whatever the script changes on the machine (audit rule, audit
# settings, audit daemon, kernel.bpf_stats_enabled, tracefs mount) is put
# back when it exits, failure and Ctrl-C included.
set -euo pipefail

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_DIR=$(dirname "$BENCH_DIR")

# Settings: environment variables, overridden by flags.
ROUNDS=${ROUNDS:-5}
DURATION=${DURATION:-5}
JOBS=${JOBS:-$(getconf _NPROCESSORS_ONLN)}
VIGIL=${VIGIL:-}
CONFIGS=${CONFIGS:-none vigil bpftrace auditd}
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
  --configs LIST  configurations; the tracers run in this order,   (CONFIGS, default
                  each paired with a "none" run if "none" is listed "none vigil bpftrace auditd")
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
	case $cfg in none | vigil | bpftrace | auditd) ;; *) die "unknown configuration: $cfg" ;; esac
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

audit_status() { # KEY: one field of `auditctl -s`
	auditctl -s | awk -v k="$1" '$1 == k { print $2 }'
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

# bpftool reads the BPF run-time counters; jq adds them up.
BPF_STATS=1
if ! need bpftool bpftool || ! need jq jq; then
	BPF_STATS=0
	log "bpftool or jq missing: BPF run time will not be measured"
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
	if ! command -v go >/dev/null; then
		UNAVAILABLE[vigil]="no go toolchain to build it; pass --vigil PATH"
		return
	fi
	# The working tree may be mid-edit by someone else: retry once after a
	# minute, then fall back to the last commit, cloned aside.
	local attempt
	for attempt in 1 2; do
		if (cd "$REPO_DIR" && go build -o "$WORK/vigil" ./cmd/vigil) 2>"$WORK/go-build.log"; then
			VIGIL_BIN=$WORK/vigil
			VIGIL_FROM="working tree at $(git -C "$REPO_DIR" describe --always --dirty 2>/dev/null || echo '?')"
			return
		fi
		if ((attempt == 1)); then
			log "go build of the working tree failed; retrying in 60 s:"
			tail -n 5 "$WORK/go-build.log" >&2
			sleep 60
		fi
	done
	log "go build failed again; building the last commit from a clone"
	if git clone -q "$REPO_DIR" "$WORK/src" &&
		(cd "$WORK/src" && go build -o "$WORK/vigil" ./cmd/vigil) 2>"$WORK/go-build.log"; then
		VIGIL_BIN=$WORK/vigil
		VIGIL_FROM="last commit $(git -C "$WORK/src" rev-parse --short HEAD)"
		return
	fi
	UNAVAILABLE[vigil]="go build failed: $(tail -n 1 "$WORK/go-build.log")"
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
		AUDIT_LOG=$(awk -F' *= *' '$1 == "log_file" { print $2 }' /etc/audit/auditd.conf)
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

has_config vigil && prepare_vigil
has_config bpftrace && prepare_bpftrace
has_config auditd && prepare_auditd

# ---------------------------------------------------------------------------
# Measuring one run.

# Filled by the start_*/stop_* functions of the configuration running now.
CPU_PIDS=()    # processes whose CPU time is the tracer's
PROG_IDS=()    # the tracer's BPF programs
START_ERR=""   # why the tracer did not start
EVENTS="-"     # events the tracer received, whole run
EXEC_EVENTS="-" # of which the storm's execs, where the tracer tells them apart
DROPS="-"      # events the tracer knows it lost
WINDOW_EXECS="-" # execs on the whole machine while the tracer's CPU was measured
WINDOW_START=0 WINDOW_END=0 # that window, in seconds since the epoch

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

# vigil: the whole machine, detections thrown away.
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
	# vigil: events 10, detections 1, processes known 65; lost 0 (...)
	local summary
	summary=$(grep '^vigil: events ' "$RUN_LOG" | tail -n 1 || true)
	if [[ $summary =~ events\ ([0-9]+),.*\ lost\ ([0-9]+) ]]; then
		EVENTS=${BASH_REMATCH[1]}
		DROPS=${BASH_REMATCH[2]}
	else
		log "vigil printed no summary line; see $RUN_LOG (--keep)"
	fi
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
	EVENTS=$(grep -cE '^[0-9]+ /' "$RUN_OUT" || true)
	EXEC_EVENTS=$(awk -v prog="$STORM_PROG" '$2 == prog { n++ } END { print n + 0 }' "$RUN_OUT")
	# Perf buffer overruns come out as "Lost N events".
	DROPS=$({ grep -ohE 'Lost [0-9]+ events' "$RUN_OUT" "$RUN_LOG" || true; } | awk '{ n += $2 } END { print n + 0 }')
	rm -f "$RUN_OUT"
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
	DROPS=$(($(audit_status lost) - AUDIT_LOST_BEFORE))
	auditctl -d "${AUDIT_RULE[@]}" >/dev/null
	AUDIT_RULE_SET=0
	if ((AUDIT_OWN_DAEMON)); then
		kill -TERM "$TRACER_PID" 2>/dev/null || true
		wait "$TRACER_PID" || log "auditd exited with status $?"
		TRACER_PID=""
	fi
	restore_audit
	local size
	size=$(stat -c %s "$AUDIT_LOG")
	if ((size >= AUDIT_LOG_OFFSET)); then
		# One SYSCALL record per audited execve, stamped msg=audit(SECONDS:SERIAL);
		# the EXECVE record that follows it holds argv.
		read -r EVENTS EXEC_EVENTS WINDOW_EXECS < <(
			tail -c +"$((AUDIT_LOG_OFFSET + 1))" "$AUDIT_LOG" |
				awk -v from="$WINDOW_START" -v to="$WINDOW_END" -v argv0="a0=\"$STORM_PROG\"" '
				/^type=SYSCALL.*key="vigil-bench"/ {
					events++
					if (match($0, /audit\([0-9.]+:/)) {
						t = substr($0, RSTART + 6, RLENGTH - 7) + 0
						if (t >= from + 0 && t <= to + 0) window++
					}
				}
				/^type=EXECVE/ && index($0, argv0) { storm++ }
				END { print events + 0, storm + 0, window + 0 }')
	else
		log "the audit log rotated during the run: events not counted"
	fi
	if ((AUDIT_OWN_DAEMON)); then
		: >"$AUDIT_LOG" # a few MB per run: no need to keep them
	fi
}

# Busy time of the whole machine so far, in clock ticks: user, nice, system,
# irq and softirq of /proc/stat (not idle, iowait, or steal, the time the
# host took). Bash builtins only, so that no fork blurs the storm's edges.
NCPU=$(getconf _NPROCESSORS_ONLN)
CLK_TCK=$(getconf CLK_TCK)
busy_ticks_now() { # VAR
	local _cpu user nice system _idle _iowait irq softirq _rest
	read -r _cpu user nice system _idle _iowait irq softirq _rest </proc/stat
	printf -v "$1" %d $((user + nice + system + irq + softirq))
}
# CPU time of this shell's reaped children so far (cutime + cstime), in
# clock ticks: the storm and all its processes, once it has been reaped.
children_ticks_now() { # VAR
	local line fields
	read -r line <"/proc/$$/stat"
	read -r -a fields <<<"${line##*) }"
	printf -v "$1" %d $((fields[13] + fields[14]))
}

# CPU nanoseconds of CPU_PIDS, added up (in bash: 64-bit integers).
cpu_ns() {
	local lines pid ns total=0
	lines=$("$CPUCLOCK" "${CPU_PIDS[@]}") || return 1
	while read -r pid ns; do
		total=$((total + ns))
	done <<<"$lines"
	echo "$total"
}

# bpf_snapshot FILE: "ID RUN_TIME_NS RUN_CNT" for each of PROG_IDS.
bpf_snapshot() {
	local ids
	ids=$(IFS=,; echo "[${PROG_IDS[*]}]")
	bpftool prog show --json | jq -r --argjson ids "$ids" '
		.[] | select(.id as $i | $ids | any(. == $i))
		| "\(.id) \(.run_time_ns // 0) \(.run_cnt // 0)"' >"$1"
}

# bpf_delta BEFORE AFTER: "PROGRAMS TOTAL_NS TOTAL_RUNS NS_PER_EXEC MIN_RUNS"
# between two snapshots. NS_PER_EXEC adds up each program's mean run time
# (run_time_ns / run_cnt): each program runs once per storm exec (vigil's
# fork, exec and exit handlers; bpftrace's exec probe), and a mean per run is
# not skewed by the other execs on the machine, as a total would be.
# MIN_RUNS, the runs of the least-run program, counts the execs on the whole
# machine: the exec hook runs once per exec, fork and exit hooks also for
# threads.
bpf_delta() {
	awk 'NR == FNR { ns[$1] = $2; cnt[$1] = $3; next }
		{
			progs++; dns = $2 - ns[$1]; dcnt = $3 - cnt[$1]
			total_ns += dns; total_cnt += dcnt
			if (dcnt > 0) per_exec += dns / dcnt
			if (progs == 1 || dcnt < min) min = dcnt
		}
		END { printf "%d %.0f %.0f %.0f %.0f\n", progs, total_ns, total_cnt, per_exec, min }' "$1" "$2"
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

# fmt DIVIDEND DIVISOR SCALE DECIMALS: DIVIDEND*SCALE/DIVISOR, or "-".
fmt() {
	awk -v a="$1" -v b="$2" -v s="$3" -v d="$4" 'BEGIN {
		if (a == "-" || b == "-" || b == 0) print "-"; else printf "%.*f\n", d, a * s / b }'
}

COLUMNS_TSV="round pair config position status execs seconds rate base_rate ratio cpu_ms cpu_us_per_exec cpu_s_per_1000_execs window_execs cpu_us_per_window_exec bpf_progs bpf_ms bpf_runs bpf_ns_per_exec events exec_events drops other_cpu_pct disturbed note"
read -r -a COLUMNS <<<"$COLUMNS_TSV"

# The runs of the pair in progress, held back until the pair is complete
# (the ratio of a tracer run before its baseline is known only then):
# "POSITION.COLUMN" -> value; a column not set is written "-".
declare -A RUN=()

record() { # the fields of COLUMNS_TSV, in order
	local IFS=$'\t'
	echo "$*" >>"$OUT"
}

# emit_run POSITION: the row of that run of the pair in the TSV file, and its
# line on stdout.
emit_run() {
	local p=$1 c row=()
	for c in "${COLUMNS[@]}"; do row+=("${RUN[$p.$c]:--}"); done
	record "${row[@]}"
	if [[ ${RUN[$p.status]} == unavailable ]]; then
		printf 'round %s/%d  pair %-3s %-8s unavailable: %s\n' \
			"${RUN[$p.round]}" "$ROUNDS" "${RUN[$p.pair]}" "${RUN[$p.config]}" "${RUN[$p.note]}"
		return
	fi
	printf 'round %s/%d  pair %-3s %-8s %6.1f execs/s  ratio %-6s  cpu %7s us/exec = %-6s s/1000 execs (%s us/any exec)  bpf %5s ns/exec  events %5s (execs %s, seen %s)  drops %s  other %s%%%s\n' \
		"${RUN[$p.round]}" "$ROUNDS" "${RUN[$p.pair]}" "${RUN[$p.config]}" "${RUN[$p.rate]}" \
		"${RUN[$p.ratio]:--}" "${RUN[$p.cpu_us_per_exec]:--}" "${RUN[$p.cpu_s_per_1000_execs]:--}" \
		"${RUN[$p.cpu_us_per_window_exec]:--}" "${RUN[$p.bpf_ns_per_exec]:--}" "${RUN[$p.events]:--}" \
		"${RUN[$p.execs]}" "${RUN[$p.exec_events]:--}" "${RUN[$p.drops]:--}" "${RUN[$p.other_cpu_pct]:--}" \
		"${RUN[$p.note]:+  [${RUN[$p.note]}]}$([[ ${RUN[$p.disturbed]:-} == 1 ]] && echo '  [disturbed]')"
}

record_unavailable() { # ROUND CONFIG REASON: a row of "-" but for the reason
	local c row=()
	for c in "${COLUMNS[@]}"; do
		case $c in
		round) row+=("$1") ;;
		config) row+=("$2") ;;
		status) row+=(unavailable) ;;
		note) row+=("$3") ;;
		*) row+=(-) ;;
		esac
	done
	record "${row[@]}"
}

# run_one CONFIG ROUND PAIR POSITION: one storm, its figures in RUN. Returns
# 1 when the tracer did not start (the configuration is then unavailable).
run_one() {
	local cfg=$1 round=$2 pair=$3 pos=$4
	RUN_NAME=r$round-p$pair-$cfg
	CPU_PIDS=() PROG_IDS=() START_ERR="" EVENTS="-" EXEC_EVENTS="-" DROPS="-" WINDOW_EXECS="-"
	RUN[$pos.round]=$round RUN[$pos.pair]=$pair RUN[$pos.config]=$cfg RUN[$pos.position]=$pos

	if [[ $cfg != none ]] && ! "start_$cfg"; then
		UNAVAILABLE[$cfg]="did not start: $START_ERR"
		RUN[$pos.status]=unavailable RUN[$pos.note]=${UNAVAILABLE[$cfg]}
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

	local cpu0=0 cpu1=0 cpu_mid=""
	WINDOW_START=$EPOCHREALTIME
	[[ $cfg != none ]] && cpu0=$(cpu_ns)
	((measure_bpf)) && bpf_snapshot "$WORK/$RUN_NAME.bpf0"

	local result busy0 busy1 storm0 storm1
	busy_ticks_now busy0
	children_ticks_now storm0
	result=$("$STORM" -j "$JOBS" -d "$DURATION" -p "$STORM_PROG")
	busy_ticks_now busy1
	children_ticks_now storm1
	[[ $result =~ execs=([0-9]+)\ seconds=([0-9.]+)\ rate=([0-9.]+) ]] ||
		die "cannot read the storm's result: $result"
	local execs=${BASH_REMATCH[1]} secs=${BASH_REMATCH[2]} rate=${BASH_REMATCH[3]}

	local note=""
	if [[ $cfg != none ]]; then
		if ! kill -0 "${CPU_PIDS[0]}" 2>/dev/null; then
			note="tracer died during the storm"
		else
			cpu_mid=$(cpu_ns) || cpu_mid=""
			settle
			cpu1=$(cpu_ns)
			WINDOW_END=$EPOCHREALTIME
		fi
		if ((measure_bpf)); then
			bpf_snapshot "$WORK/$RUN_NAME.bpf1"
			sysctl -qw kernel.bpf_stats_enabled="$BPF_STATS_SAVED"
		fi
		"stop_$cfg"
	fi

	RUN[$pos.status]=ok RUN[$pos.execs]=$execs RUN[$pos.seconds]=$secs RUN[$pos.rate]=$rate
	# The machine's busy time while the storm ran, less the storm's own (all
	# its processes, reaped by this shell) and the tracer's: other work.
	local other=$((busy1 - busy0 - (storm1 - storm0)))
	if [[ $cfg == none ]]; then
		RUN[$pos.other_cpu_pct]=$(fmt "$other" "$(awk -v s="$secs" -v c="$NCPU" -v h="$CLK_TCK" 'BEGIN { print s * c * h }')" 100 1)
	elif [[ -n $cpu_mid ]]; then
		other=$(awk -v o="$other" -v t=$((cpu_mid - cpu0)) -v h="$CLK_TCK" 'BEGIN { print o - t * h / 1e9 }')
		RUN[$pos.other_cpu_pct]=$(fmt "$other" "$(awk -v s="$secs" -v c="$NCPU" -v h="$CLK_TCK" 'BEGIN { print s * c * h }')" 100 1)
	fi
	[[ -n $note ]] && RUN[$pos.status]=failed RUN[$pos.note]=$note
	if ((measure_bpf)) && [[ -z $note ]]; then
		local bpf_progs total_ns bpf_runs bpf_ns
		read -r bpf_progs total_ns bpf_runs bpf_ns WINDOW_EXECS < <(bpf_delta "$WORK/$RUN_NAME.bpf0" "$WORK/$RUN_NAME.bpf1")
		RUN[$pos.bpf_progs]=$bpf_progs RUN[$pos.bpf_runs]=$bpf_runs RUN[$pos.bpf_ns_per_exec]=$bpf_ns
		RUN[$pos.bpf_ms]=$(fmt "$total_ns" 1 1e-6 3)
	fi
	if [[ $cfg != none && -z $note ]]; then
		local cpu=$((cpu1 - cpu0))
		RUN[$pos.cpu_ms]=$(fmt "$cpu" 1 1e-6 2)
		RUN[$pos.cpu_us_per_exec]=$(fmt "$cpu" "$execs" 1e-3 2)
		# CPU seconds per 1,000 execs: ns * 1e-9 * 1000 / execs.
		RUN[$pos.cpu_s_per_1000_execs]=$(fmt "$cpu" "$execs" 1e-6 4)
		RUN[$pos.cpu_us_per_window_exec]=$(fmt "$cpu" "$WINDOW_EXECS" 1e-3 2)
	fi
	RUN[$pos.window_execs]=$WINDOW_EXECS RUN[$pos.events]=$EVENTS RUN[$pos.exec_events]=$EXEC_EVENTS RUN[$pos.drops]=$DROPS
}

# run_pair ROUND PAIR CONFIG...: the runs of one pair (or a lone run), one
# after the other, then their rows once all are done, with each tracer's
# ratio to the baseline of the pair. A tracer that does not start skips the
# baseline that would have followed it, but not one that already ran.
PAIR=0
run_pair() {
	local round=$1 cfg pos=0 i
	PAIR=$((PAIR + 1))
	shift
	RUN=()
	for cfg; do
		pos=$((pos + 1))
		if ! run_one "$cfg" "$round" "$PAIR" "$pos"; then
			break
		fi
		sleep "$PAUSE"
	done
	local base=""
	for ((i = 1; i <= pos; i++)); do
		[[ ${RUN[$i.config]} == none && ${RUN[$i.status]} == ok ]] && base=${RUN[$i.rate]}
	done
	# Disturbed: other work took more than QUIET % of the machine during a
	# run of the pair.
	local disturbed=0
	if ((QUIET > 0)); then
		for ((i = 1; i <= pos; i++)); do
			[[ ${RUN[$i.other_cpu_pct]:--} != - ]] &&
				awk -v o="${RUN[$i.other_cpu_pct]}" -v q="$QUIET" 'BEGIN { exit !(o > q) }' &&
				disturbed=1
		done
	fi
	for ((i = 1; i <= pos; i++)); do
		if [[ -n $base && ${RUN[$i.config]} != none && ${RUN[$i.status]} != unavailable ]]; then
			RUN[$i.base_rate]=$base
			RUN[$i.ratio]=$(fmt "${RUN[$i.rate]}" "$base" 1 4)
		fi
		[[ ${RUN[$i.status]} != unavailable ]] && ((QUIET > 0)) && RUN[$i.disturbed]=$disturbed
		emit_run "$i"
	done
	return $((disturbed ? 2 : 0))
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
	tr ' ' '\t' <<<"$COLUMNS_TSV"
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

# Configurations that never got to run still get a line in the results.
for cfg in "${CONFIG_LIST[@]}"; do
	if [[ -n ${UNAVAILABLE[$cfg]:-} ]] && ! awk -F'\t' -v c="$cfg" '
		$1 == "round" { for (i = 1; i <= NF; i++) col[$i] = i; next }
		col["config"] && $(col["config"]) == c { f = 1 }
		END { exit !f }' "$OUT"; then
		record_unavailable - "$cfg" "${UNAVAILABLE[$cfg]}"
	fi
done

# ---------------------------------------------------------------------------
# Summary: medians over the pairs, totals of events and drops.

echo
awk -F'\t' -v order="${CONFIG_LIST[*]}" '
	function sort(list, v,   n, i, j, t) {
		n = split(list, v, " ")
		for (i = 2; i <= n; i++)            # insertion sort: n is small
			for (j = i; j > 1 && v[j - 1] + 0 > v[j] + 0; j--) { t = v[j]; v[j] = v[j - 1]; v[j - 1] = t }
		return n
	}
	function median(list,   v, n) {
		n = sort(list, v)
		if (n == 0) return "-"
		return n % 2 ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2
	}
	function lo(list,   v) { return sort(list, v) ? v[1] : "-" }
	function hi(list,   v, n) { n = sort(list, v); return n ? v[n] : "-" }
	function range(list, fmt) {
		if (lo(list) == "-") return "-"
		return sprintf(fmt "-" fmt, lo(list), hi(list))
	}
	function num(v, fmt) { return v == "-" ? "-" : sprintf(fmt, v) }
	function f(name) { return $(col[name]) }
	function add(arr, key, name) { if (f(name) != "-") arr[key] = arr[key] " " f(name) }
	/^#/ { next }
	$1 == "round" { for (i = 1; i <= NF; i++) col[$i] = i; next }
	f("status") == "unavailable" { why[f("config")] = f("note"); next }
	f("status") != "ok" { failed[f("config")]++; next }
	{
		# Totals over every run; medians over the undisturbed ones.
		c = f("config")
		execs[c] += f("execs")
		if (f("events") != "-") { events[c] += f("events"); has_events[c] = 1 }
		if (f("exec_events") != "-") { seen[c] += f("exec_events"); has_seen[c] = 1 }
		if (f("drops") != "-") { drops[c] += f("drops"); has_drops[c] = 1 }
		if (f("disturbed") == 1) { disturbed[c]++; next }
		runs[c]++
		add(rate, c, "rate"); add(base, c, "base_rate"); add(ratio, c, "ratio")
		add(cpu, c, "cpu_us_per_exec"); add(cpuk, c, "cpu_s_per_1000_execs")
		add(cpuw, c, "cpu_us_per_window_exec"); add(bpf, c, "bpf_ns_per_exec"); add(other, c, "other_cpu_pct")
	}
	END {
		fmt = "%-9s %4s  %-6s %-11s %7s  %7s  %7s  %7s  %8s  %7s  %6s  %6s  %6s  %5s  %6s\n"
		printf fmt, "config", "runs", "ratio", "range", "execs/s", "base/s", "CPU s/", "CPU us/", "CPU us/", "BPF ns/", "events", "execs", "seen", "drops", "other"
		printf fmt, "", "", "", "", "", "", "1k exec", "exec", "any exec", "exec", "", "", "", "", "CPU %"
		n = split(order, cfgs, " ")
		for (i = 1; i <= n; i++) {
			c = cfgs[i]
			if (c in done) continue
			done[c] = 1
			if (c in why && !(c in runs)) { printf "%-9s unavailable: %s\n", c, why[c]; continue }
			if (!(c in runs) && !failed[c] && !disturbed[c]) { printf "%-9s no runs\n", c; continue }
			r = median(ratio[c]); u = median(cpu[c])
			printf fmt, c, runs[c] + 0, num(r, "%.3f"), range(ratio[c], "%.3f"), num(median(rate[c]), "%.1f"),
				num(median(base[c]), "%.1f"), num(median(cpuk[c]), "%.4f"), num(u, "%.2f"),
				num(median(cpuw[c]), "%.2f"), num(median(bpf[c]), "%.0f"),
				(has_events[c] ? events[c] : "-"), execs[c], (has_seen[c] ? seen[c] : "-"),
				(has_drops[c] ? drops[c] : "-"), num(median(other[c]), "%.1f")
			if (disturbed[c]) printf "%-9s (%d more runs disturbed by other work: in the totals, not the medians)\n", "", disturbed[c]
			if (failed[c]) printf "%-9s (%d more runs failed: the tracer died)\n", "", failed[c]
			if (c in why) printf "%-9s (then unavailable: %s)\n", "", why[c]
			if (c == "vigil" && (runs[c] || disturbed[c])) {
				aims = sprintf("vigil against its aims: rate >= 98%% of baseline %s, CPU < 10 us/exec %s, zero drops %s",
					r == "-" ? "unknown (no undisturbed pair with a baseline)" : r >= 0.98 ? "met" : "MISSED", u == "-" ? "unknown" : u < 10 ? "met" : "MISSED",
					(has_drops[c] && drops[c] == 0) ? "met" : "MISSED")
			}
		}
		if (runs["none"]) {
			m = median(rate["none"])
			printf "\nbaseline rate over its %d undisturbed runs: median %.1f, range %s execs/s (spread %.1f%% of the median)\n",
				runs["none"], m, range(rate["none"], "%.1f"), (m > 0 ? 100 * (hi(rate["none"]) - lo(rate["none"])) / m : 0)
		}
		if (aims != "") print "\n" aims
	}' "$OUT"
echo
echo "raw results: $OUT"
