#!/usr/bin/env bash
# Soak benchmark: does vigil's memory stay flat through a long exec storm
# with thousands of long-lived processes on the machine?
#
# vigil watches the whole machine with its full built-in catalog, its
# detections to a JSON lines file and OTLP to a local sink (bench/otlpsink)
# that takes every export and decodes nothing, its spool in a temporary
# state folder, GODEBUG=gctrace=1 for a line per garbage collection. While
# it runs, its resident memory (VmRSS, RssAnon, VmHWM) and CPU time (utime,
# stime) are read from /proc every second. Then:
#
#   1. vigil alone, watching, for SETTLE seconds;
#   2. SLEEPERS long-lived processes (sleep), in a process group of their
#      own, started one by one, which vigil sees start; SETTLE seconds more;
#   3. the storm (bench/storm.c) makes EXECS execs of /bin/true in CHUNKS
#      chunks, noting the time and vigil's CPU time after each;
#   4. SETTLE seconds for vigil to drain, then SIGINT and its exit summary.
#
# bench/soakreport does the arithmetic and prints the figures; the readings
# and the report stay in the output folder. The long-lived processes are
# killed at the end whatever happens, and by a watchdog among them, which
# stops vigil and the sink too, if this script is killed outright. Needs
# root. bench/README.md has the figures.
set -euo pipefail
export LC_ALL=C # EPOCHREALTIME with a decimal point

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_DIR=$(dirname "$BENCH_DIR")

EXECS=${EXECS:-100000}
CHUNKS=${CHUNKS:-10}
SLEEPERS=${SLEEPERS:-3000}
JOBS=${JOBS:-1}
SETTLE=${SETTLE:-5}
VIGIL=${VIGIL:-}
OUT=${OUT:-/tmp/vigil-soak-$(date +%Y%m%d-%H%M%S)}

usage() {
	cat <<EOF
usage: bench/soak.sh [options]   (as root)

  --execs N      storm execs in all                 (EXECS, default 100000)
  --chunks N     chunks the storm runs in           (CHUNKS, default 10)
  --sleepers N   long-lived processes               (SLEEPERS, default 3000)
  --jobs N       parallel spawn loops of the storm  (JOBS, default 1: this machine's highest rate)
  --settle S     idle seconds before and after each stage (SETTLE, default 5)
  --vigil PATH   vigil binary                       (VIGIL, default: go build ./cmd/vigil)
  --out DIR      readings and report                (OUT, default /tmp/vigil-soak-DATE)
EOF
}

while (($#)); do
	case $1 in
	--execs) EXECS=$2; shift 2 ;;
	--chunks) CHUNKS=$2; shift 2 ;;
	--sleepers) SLEEPERS=$2; shift 2 ;;
	--jobs) JOBS=$2; shift 2 ;;
	--settle) SETTLE=$2; shift 2 ;;
	--vigil) VIGIL=$2; shift 2 ;;
	--out) OUT=$2; shift 2 ;;
	-h | --help) usage; exit 0 ;;
	*) usage >&2; exit 2 ;;
	esac
done

log() { printf 'soak: %s\n' "$*" >&2; }
die() { log "$*"; exit 1; }

for n in EXECS CHUNKS SLEEPERS JOBS SETTLE; do
	[[ ${!n} =~ ^[1-9][0-9]*$ ]] || die "${n,,} wants a positive integer"
done
((EXECS >= CHUNKS)) || die "fewer execs than chunks"
((EUID == 0)) || die "needs root (BPF)"

# shellcheck source=bench/proctime.sh
source "$BENCH_DIR/proctime.sh"

# Only what this script configures decides where vigil exports.
while read -r name; do unset "$name"; done < <(compgen -e OTEL_ || true)

WORK=$(mktemp -d /tmp/vigil-soak-work.XXXXXX)
mkdir -p "$OUT"
SAMPLES=$OUT/samples.csv
MARKS=$OUT/marks.tsv
VIGIL_LOG=$OUT/vigil.err
: >"$MARKS"

# What this script started and has not ended yet.
SINK_PID="" VIGIL_PID="" SAMPLER_PID="" SLEEPERS_PGID="" STORM_PGID=""

cleanup() {
	local rc=$?
	set +e
	if [[ -n $STORM_PGID ]]; then
		kill -TERM -- -"$STORM_PGID"
		wait "$STORM_PGID"
	fi
	[[ -n $SAMPLER_PID ]] && kill "$SAMPLER_PID" && wait "$SAMPLER_PID"
	if [[ -n $VIGIL_PID ]]; then
		kill -TERM "$VIGIL_PID" && wait "$VIGIL_PID"
	fi
	if [[ -n $SLEEPERS_PGID ]]; then
		kill -KILL -- -"$SLEEPERS_PGID"
		wait "$SLEEPERS_PGID"
	fi
	[[ -n $SINK_PID ]] && kill "$SINK_PID" && wait "$SINK_PID"
	rm -rf "$WORK"
	exit "$rc"
} 2>/dev/null
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ---------------------------------------------------------------------------
# Programs.

command -v go >/dev/null || die "no go toolchain"
command -v cc >/dev/null || die "no C compiler"
(
	cd "$REPO_DIR"
	go build -o "$WORK/soakreport" ./bench/soakreport
	go build -o "$WORK/otlpsink" ./bench/otlpsink
	if [[ -z $VIGIL ]]; then go build -o "$WORK/vigil" ./cmd/vigil; fi
) || die "go build failed"
VIGIL_FROM="given binary $VIGIL"
if [[ -z $VIGIL ]]; then
	VIGIL=$WORK/vigil
	VIGIL_FROM="built from $(git -C "$REPO_DIR" describe --always --dirty 2>/dev/null || echo '?')"
fi
STORM=$WORK/storm CPUCLOCK=$WORK/cpuclock
cc -O2 -Wall -Werror -o "$STORM" "$BENCH_DIR/storm.c"
cc -O2 -Wall -Werror -o "$CPUCLOCK" "$BENCH_DIR/cpuclock.c"

# ---------------------------------------------------------------------------
# Readings.

# mark NAME [STORM_LINE]: a moment of the soak, with vigil's CPU time (ns),
# the machine's busy time and this script's reaped children's (ticks).
mark() {
	local t=$EPOCHREALTIME ns busy children
	busy_ticks_now busy
	children_ticks_now children
	ns=$("$CPUCLOCK" "$VIGIL_PID") || die "vigil is gone (at $1)"
	printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$t" "$1" "${ns#* }" "$busy" "$children" "${2:-}" >>"$MARKS"
}

# sample: vigil's memory and CPU time every second, until it is gone.
sample() {
	local key val _unit rss anon hwm line f
	echo unix_s,vm_rss_kb,rss_anon_kb,vm_hwm_kb,utime_ticks,stime_ticks >"$SAMPLES"
	while :; do
		rss="" anon="" hwm=""
		while read -r key val _unit; do
			case $key in
			VmRSS:) rss=$val ;;
			RssAnon:) anon=$val ;;
			VmHWM:) hwm=$val ;;
			esac
		done 2>/dev/null <"/proc/$VIGIL_PID/status" || return 0
		[[ -n $rss ]] || return 0 # exited, not reaped yet
		read -r line 2>/dev/null <"/proc/$VIGIL_PID/stat" || return 0
		read -r -a f <<<"${line##*) }"
		echo "$EPOCHREALTIME,$rss,$anon,$hwm,${f[11]},${f[12]}" >>"$SAMPLES"
		sleep 1
	done
}

# ---------------------------------------------------------------------------
# The soak.

log "load average at start: $(cut -d' ' -f1-3 /proc/loadavg); vigil $VIGIL_FROM"
"$WORK/otlpsink" >"$WORK/sink.url" 2>"$OUT/otlpsink.err" &
SINK_PID=$!
for ((i = 0; i < 100; i++)); do
	[[ -s $WORK/sink.url ]] && break
	sleep 0.1
done
ENDPOINT=$(head -n 1 "$WORK/sink.url")
[[ -n $ENDPOINT ]] || die "the OTLP sink did not start: $(tail -n 1 "$OUT/otlpsink.err")"

# gctrace: a line per garbage collection, with the heap still live after
# it, which says whether vigil holds on to more memory as execs go by.
GODEBUG=gctrace=1 "$VIGIL" run --jsonl "$OUT/detections.jsonl" --otlp-endpoint "$ENDPOINT" \
	--state-dir "$WORK/state" 2>"$VIGIL_LOG" &
VIGIL_PID=$!
mark start
sample &
SAMPLER_PID=$!
for ((i = 0; i < 600; i++)); do
	grep -q 'watching the machine' "$VIGIL_LOG" && break
	kill -0 "$VIGIL_PID" 2>/dev/null || die "vigil exited: $(tail -n 2 "$VIGIL_LOG")"
	sleep 0.1
done
grep -q 'watching the machine' "$VIGIL_LOG" || die "vigil not ready in 60 s"
mark ready
log "vigil (pid $VIGIL_PID) watches the machine; OTLP to $ENDPOINT"
sleep "$SETTLE"

# The long-lived processes: a session (so a process group) of their own,
# led by a shell that starts them and then watches this script. Should the
# script be gone without its cleanup (SIGKILL), it stops vigil and the sink
# and kills its whole group.
mark sleepers
# shellcheck disable=SC2016 # $1 to $4 are the inner shell's arguments
setsid bash -c '
	for ((i = 0; i < $1; i++)); do sleep infinity & done
	while kill -0 "$2" 2>/dev/null; do sleep 5; done
	kill -TERM "$3" "$4"
	kill -KILL 0' soak-sleepers "$SLEEPERS" "$$" "$VIGIL_PID" "$SINK_PID" </dev/null >/dev/null 2>&1 &
SLEEPERS_PGID=$!
for ((i = 0; ; i++)); do
	up=$(pgrep -c -g "$SLEEPERS_PGID" -fx 'sleep infinity' || true)
	((up >= SLEEPERS)) && break
	((i < 1200)) || die "only $up of $SLEEPERS long-lived processes after 2 minutes"
	sleep 0.1
done
sleep "$SETTLE"
mark sleepers_up
log "$SLEEPERS long-lived processes run (process group $SLEEPERS_PGID)"

mark storm
done_execs=0
for ((c = 1; c <= CHUNKS; c++)); do
	n=$((EXECS * c / CHUNKS - done_execs))
	# In a process group of its own, its workers with it, and waited for
	# in the background: a signal to this script stops it at once.
	setsid "$STORM" -j "$JOBS" -n "$n" >"$WORK/chunk" &
	STORM_PGID=$!
	wait "$STORM_PGID"
	STORM_PGID=""
	result=$(<"$WORK/chunk")
	mark chunk "$result"
	done_execs=$((done_execs + n))
	log "chunk $c/$CHUNKS: $result"
done
sleep "$SETTLE"
mark end

kill -INT "$VIGIL_PID"
status=0
wait "$VIGIL_PID" || status=$?
VIGIL_PID=""
((status == 0)) || log "vigil exited with status $status"
wait "$SAMPLER_PID" || true
SAMPLER_PID=""
log "load average at end: $(cut -d' ' -f1-3 /proc/loadavg)"

"$WORK/soakreport" -samples "$SAMPLES" -marks "$MARKS" -vigil-log "$VIGIL_LOG" \
	-sleepers "$SLEEPERS" -cpus "$NCPU" -clock-ticks "$CLK_TCK" -series "$OUT/series.csv" |
	tee "$OUT/report.txt"
log "readings and report in $OUT"
