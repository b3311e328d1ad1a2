// Package readings reads what bench/run.sh collects during a run: the
// storm's result line, what each tracer leaves behind (vigil's exit
// summary, bpftrace's output, the audit log), bpftool's statistics of
// the tracer's BPF programs and the tracer's memory in /proc. It only
// counts; package report does the arithmetic.
package readings

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"
)

// A Count is a number of events that may be unknown: a tracer that cannot
// tell (vigil does not tell the storm's execs apart), or whose output
// could not be read. Unknown counts are "-" in the results.
type Count struct {
	N     int64
	Known bool
}

// Known returns the known count n.
func Known(n int64) Count { return Count{N: n, Known: true} }

// String returns the count as the results write it.
func (c Count) String() string {
	if !c.Known {
		return "-"
	}
	return strconv.FormatInt(c.N, 10)
}

// Storm is the result of one storm (bench/storm.c).
type Storm struct {
	Execs   int64   // execs whose child exited 0
	Seconds float64 // wall time
	Rate    float64 // execs per second
}

var stormLine = regexp.MustCompile(`execs=([0-9]+) seconds=([0-9.]+) rate=([0-9.]+)`)

// ParseStorm reads the line the storm prints at its end,
// "execs=N seconds=S rate=R jobs=J".
func ParseStorm(line string) (Storm, error) {
	m := stormLine.FindStringSubmatch(line)
	if m == nil {
		return Storm{}, fmt.Errorf("cannot read the storm's result %q", line)
	}
	execs, err := strconv.ParseInt(m[1], 10, 64)
	if err != nil {
		return Storm{}, fmt.Errorf("storm execs: %w", err)
	}
	secs, err := strconv.ParseFloat(m[2], 64)
	if err != nil {
		return Storm{}, fmt.Errorf("storm seconds: %w", err)
	}
	rate, err := strconv.ParseFloat(m[3], 64)
	if err != nil {
		return Storm{}, fmt.Errorf("storm rate: %w", err)
	}
	return Storm{Execs: execs, Seconds: secs, Rate: rate}, nil
}

// VigilExit is what vigil's exit summary says: the events it received,
// the detections it made, the events it lost and, of those, the ones the
// full ring buffer lost, and the execs it saw, each unknown when it
// printed no summary (or not that figure); and its detections and the
// matches its report limits held back, by recipe.
type VigilExit struct {
	Events, Detections, Lost, RingFull, Execs Count
	ByRecipe, HeldBack                        map[string]int64
}

var (
	// The first line of the summary: "vigil: events 10, detections 1,
	// ...; lost 0 (ring buffer full 0, ...)".
	vigilCounts     = regexp.MustCompile(`^vigil: events ([0-9]+),.* lost ([0-9]+)`)
	vigilDetections = regexp.MustCompile(`[ ,]detections ([0-9]+)[,;]`)
	vigilRingFull   = regexp.MustCompile(`[(]ring buffer full ([0-9]+)[,)]`)
	// "vigil: execs 1185 in 4.1s (289.0/s)".
	vigilExecs = regexp.MustCompile(`^vigil: execs ([0-9]+) in `)
	// "vigil: detections by importance: low 1; by recipe: a 1, b 2".
	vigilByRecipe = regexp.MustCompile(`^vigil: detections by importance: .*; by recipe: (.*)$`)
	// "vigil: matches held back by report limits: a 3, b 1".
	vigilHeldBack = regexp.MustCompile(`^vigil: matches held back by report limits: (.*)$`)
)

// VigilSummary reads the last exit summary in vigil's standard error.
func VigilSummary(stderr io.Reader) (VigilExit, error) {
	var exit VigilExit
	sc := bufio.NewScanner(stderr)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if m := vigilCounts.FindStringSubmatch(line); m != nil {
			// A new summary: what came before was an earlier run's.
			exit = VigilExit{
				Events: count(m[1]), Lost: count(m[2]),
				ByRecipe: map[string]int64{}, HeldBack: map[string]int64{},
			}
			if d := vigilDetections.FindStringSubmatch(line); d != nil {
				exit.Detections = count(d[1])
			}
			if r := vigilRingFull.FindStringSubmatch(line); r != nil {
				exit.RingFull = count(r[1])
			}
			continue
		}
		if exit.Events.Known {
			if m := vigilExecs.FindStringSubmatch(line); m != nil {
				exit.Execs = count(m[1])
			} else if m := vigilByRecipe.FindStringSubmatch(line); m != nil {
				countsByName(exit.ByRecipe, m[1])
			} else if m := vigilHeldBack.FindStringSubmatch(line); m != nil {
				countsByName(exit.HeldBack, m[1])
			}
		}
	}
	return exit, sc.Err()
}

// count reads a count the regular expressions found to be digits.
func count(digits string) Count {
	n, _ := strconv.ParseInt(digits, 10, 64)
	return Known(n)
}

// countsByName adds to counts a list "a 1, b 2" as vigil prints it.
func countsByName(counts map[string]int64, list string) {
	for _, part := range strings.Split(list, ", ") {
		name, n, ok := strings.Cut(part, " ")
		if v, err := strconv.ParseInt(n, 10, 64); ok && err == nil {
			counts[name] += v
		}
	}
}

// ProcStatus reads a process's resident memory from its /proc/PID/status:
// the peak resident set (VmHWM) and the anonymous part of the resident
// set now (RssAnon), in kB; each unknown when the file has no such line.
func ProcStatus(status io.Reader) (peakKB, anonKB Count, err error) {
	sc := bufio.NewScanner(status)
	for sc.Scan() {
		key, value, ok := strings.Cut(sc.Text(), ":")
		if !ok || (key != "VmHWM" && key != "RssAnon") {
			continue
		}
		f := strings.Fields(value)
		if len(f) != 2 || f[1] != "kB" {
			return Count{}, Count{}, fmt.Errorf("/proc status: cannot read %s %q", key, value)
		}
		n, err := strconv.ParseInt(f[0], 10, 64)
		if err != nil {
			return Count{}, Count{}, fmt.Errorf("/proc status: %s: %w", key, err)
		}
		if key == "VmHWM" {
			peakKB = Known(n)
		} else {
			anonKB = Known(n)
		}
	}
	if err := sc.Err(); err != nil {
		return Count{}, Count{}, fmt.Errorf("/proc status: %w", err)
	}
	return peakKB, anonKB, nil
}

var (
	bpftraceEvent = regexp.MustCompile(`^[0-9]+ /`)
	// Perf buffer overruns come out as "Lost N events", on either stream.
	bpftraceLost = regexp.MustCompile(`Lost ([0-9]+) events`)
)

// Bpftrace counts bpftrace's output, one "PID FILENAME" line per exec:
// its events, those of the storm (FILENAME is prog, the storm's own path
// to /bin/true) and the events it says it lost in out and in stderr.
func Bpftrace(out, stderr io.Reader, prog string) (events, stormExecs, lost int64, err error) {
	sc := bufio.NewScanner(out)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if bpftraceEvent.MatchString(line) {
			events++
		}
		if f := strings.Fields(line); len(f) >= 2 && f[1] == prog {
			stormExecs++
		}
		lost += lostIn(line)
	}
	if err := sc.Err(); err != nil {
		return 0, 0, 0, fmt.Errorf("bpftrace output: %w", err)
	}
	sc = bufio.NewScanner(stderr)
	for sc.Scan() {
		lost += lostIn(sc.Text())
	}
	if err := sc.Err(); err != nil {
		return 0, 0, 0, fmt.Errorf("bpftrace stderr: %w", err)
	}
	return events, stormExecs, lost, nil
}

func lostIn(line string) int64 {
	var n int64
	for _, m := range bpftraceLost.FindAllStringSubmatch(line, -1) {
		v, _ := strconv.ParseInt(m[1], 10, 64)
		n += v
	}
	return n
}

// auditStamp is the time in a record's "msg=audit(SECONDS:SERIAL)".
var auditStamp = regexp.MustCompile(`audit\(([0-9.]+):`)

// AuditLog counts the records of the rule keyed key in an audit log: one
// SYSCALL record per audited execve (events), those stamped within
// [from, to] in seconds since the epoch (the execs of the measured
// window), and the EXECVE records, which hold argv, whose argv[0] is prog
// (the storm's execs).
func AuditLog(log io.Reader, key, prog string, from, to float64) (events, stormExecs, windowExecs int64, err error) {
	keyed := `key="` + key + `"`
	argv0 := `a0="` + prog + `"`
	sc := bufio.NewScanner(log)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "type=SYSCALL") && strings.Contains(line, keyed):
			events++
			if m := auditStamp.FindStringSubmatch(line); m != nil {
				if t, err := strconv.ParseFloat(m[1], 64); err == nil && t >= from && t <= to {
					windowExecs++
				}
			}
		case strings.HasPrefix(line, "type=EXECVE") && strings.Contains(line, argv0):
			stormExecs++
		}
	}
	if err := sc.Err(); err != nil {
		return 0, 0, 0, fmt.Errorf("audit log: %w", err)
	}
	return events, stormExecs, windowExecs, nil
}

// ProgStat is one BPF program's run-time statistics
// (kernel.bpf_stats_enabled): its total run time and runs so far.
type ProgStat struct {
	ID        int
	RunTimeNS int64
	RunCount  int64
}

// BPFSnapshot reads the output of `bpftool prog show --json` and returns
// the statistics of the programs ids, in bpftool's order.
func BPFSnapshot(bpftoolJSON io.Reader, ids []int) ([]ProgStat, error) {
	var progs []struct {
		ID        int   `json:"id"`
		RunTimeNS int64 `json:"run_time_ns"`
		RunCnt    int64 `json:"run_cnt"`
	}
	if err := json.NewDecoder(bpftoolJSON).Decode(&progs); err != nil {
		return nil, fmt.Errorf("bpftool prog show --json: %w", err)
	}
	want := make(map[int]bool, len(ids))
	for _, id := range ids {
		want[id] = true
	}
	var stats []ProgStat
	for _, p := range progs {
		if want[p.ID] {
			stats = append(stats, ProgStat{ID: p.ID, RunTimeNS: p.RunTimeNS, RunCount: p.RunCnt})
		}
	}
	return stats, nil
}
