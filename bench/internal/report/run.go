package report

import (
	"fmt"
	"strconv"

	"github.com/vigil-otel/vigil/bench/internal/readings"
)

// Machine is what a run's figures need to know of the machine.
type Machine struct {
	CPUs       int // online cores
	ClockTicks int // clock ticks per second of /proc (CLK_TCK)
}

// Measurement is what run.sh measured in one run, before any arithmetic.
type Measurement struct {
	Round, Pair, Config, Position string
	Status, Note                  string
	Storm                         readings.Storm
	// BusyTicks is the machine's busy time while the storm ran (user,
	// nice, system, irq and softirq of /proc/stat), StormTicks the storm's
	// own (its reaped processes' cutime + cstime), in clock ticks.
	BusyTicks, StormTicks int64
	// TracerStormNS is the tracer's CPU time while the storm ran; TracerNS
	// over the measured window, the storm and the tracer's draining after
	// it. Unknown for the baseline and for a tracer that died.
	TracerStormNS, TracerNS readings.Count
	// BPFBefore and BPFAfter are the tracer's BPF programs at the edges of
	// the window, when BPFMeasured.
	BPFMeasured         bool
	BPFBefore, BPFAfter []readings.ProgStat
	// WindowExecs are the execs on the whole machine in the window, where
	// the tracer's log tells (auditd); for BPF tracers the run count of
	// their least-run program, from BPFBefore and BPFAfter.
	WindowExecs readings.Count
	// Events the tracer received, those of the storm's execs, and those it
	// knows it lost. For vigil-detect the storm's execs are the detections
	// of the recipe that matches them.
	Events, ExecEvents, Drops readings.Count
	// Detections are vigil's over its whole life; HeldBack the matches of
	// vigil-detect's storm recipe that a report limit held back.
	Detections, HeldBack readings.Count
	// RSSPeakKB and RSSAnonKB are the tracer's peak resident set (VmHWM)
	// and its anonymous resident memory (RssAnon), in kB, read just
	// before it was stopped.
	RSSPeakKB, RSSAnonKB readings.Count
}

// minDetectedShare is the share of the storm's execs that vigil-detect
// must report as detections for its run to count: every storm exec is
// one, so a run far below is measuring something else.
const minDetectedShare = 0.9

// The notes of a vigil-detect run that made far fewer detections of the
// storm's execs than the storm made execs.
const (
	noteNoSummary    = "no exit summary from vigil: its detections are unknown"
	noteHeldBack     = "fewer detections than storm execs: a report limit held matches back"
	noteLost         = "fewer detections than storm execs: vigil lost events"
	noteDoesNotMatch = "fewer detections than storm execs: the recipe does not match every storm exec"
)

// checkDetections returns why a vigil-detect run does not count, "" when
// it made a detection of (nearly) every storm exec.
func checkDetections(m Measurement) string {
	switch {
	case !m.ExecEvents.Known:
		return noteNoSummary
	case float64(m.ExecEvents.N) >= minDetectedShare*float64(m.Storm.Execs):
		return ""
	case m.HeldBack.N > 0:
		return noteHeldBack
	case m.Drops.N > 0:
		return noteLost
	default:
		return noteDoesNotMatch
	}
}

// NewRun works out a run's figures (its row but for the pair's figures,
// which [Pair] adds).
func NewRun(m Measurement, mach Machine) Run {
	r := Run{Round: m.Round, Pair: m.Pair, Config: m.Config, Position: m.Position, Status: m.Status, Note: m.Note}
	if m.Status == StatusUnavailable {
		return r
	}
	if m.Config == VigilDetects && m.Status == StatusOK {
		if why := checkDetections(m); why != "" {
			m.Status, m.Note = StatusFailed, why
			r.Status, r.Note = m.Status, m.Note
		}
	}
	tracer := m.Config != Baseline
	r.Execs = strconv.FormatInt(m.Storm.Execs, 10)
	r.Seconds = fixed(m.Storm.Seconds, 3)
	r.Rate = fixed(m.Storm.Rate, 1)

	// Other work: the machine's busy time less the storm's and the
	// tracer's, in % of cores × seconds.
	if !tracer || m.TracerStormNS.Known {
		other := float64(m.BusyTicks - m.StormTicks)
		if tracer {
			other -= float64(m.TracerStormNS.N) * float64(mach.ClockTicks) / 1e9
		}
		r.OtherCPUPct = scaled(other, m.Storm.Seconds*float64(mach.CPUs)*float64(mach.ClockTicks), 100, 1)
	}

	window := m.WindowExecs
	if m.Status == StatusOK && m.BPFMeasured {
		b := bpfFigures(m.BPFBefore, m.BPFAfter)
		r.BPFProgs = strconv.Itoa(b.progs)
		r.BPFms = scaled(float64(b.totalNS), 1, 1e-6, 3)
		r.BPFRuns = strconv.FormatInt(b.runs, 10)
		r.BPFnsPerExec = fixed(b.nsPerExec, 0)
		window = readings.Known(b.minRuns)
	}
	if tracer && m.Status == StatusOK && m.TracerNS.Known {
		cpu := float64(m.TracerNS.N)
		execs := float64(m.Storm.Execs)
		r.CPUms = scaled(cpu, 1, 1e-6, 2)
		r.CPUusPerExec = scaled(cpu, execs, 1e-3, 2)
		r.CPUsPer1000Execs = scaled(cpu, execs, 1e-6, 4) // ns × 1e-9 × 1,000 / execs
		if window.Known {
			r.CPUusPerWindowExec = scaled(cpu, float64(window.N), 1e-3, 2)
		}
	}
	r.WindowExecs = window.String()
	r.Events = m.Events.String()
	r.ExecEvents = m.ExecEvents.String()
	r.Drops = m.Drops.String()
	r.Detections = m.Detections.String()
	r.RSSPeakKB = m.RSSPeakKB.String()
	r.RSSAnonKB = m.RSSAnonKB.String()
	return r
}

// bpf are the figures of a tracer's BPF programs over a window.
type bpf struct {
	progs     int
	totalNS   int64
	runs      int64
	nsPerExec float64
	minRuns   int64
}

// bpfFigures compares two snapshots of a tracer's programs. Each program
// runs once per storm exec (vigil's fork, exec and exit handlers;
// bpftrace's exec probe), so the BPF time per exec is the sum of each
// program's mean run time (Δrun_time_ns / Δrun_cnt), which other execs on
// the machine do not skew as a total would. The runs of the least-run
// program count the execs on the whole machine: the exec hook runs once
// per exec, fork and exit hooks for threads too.
func bpfFigures(before, after []readings.ProgStat) bpf {
	was := make(map[int]readings.ProgStat, len(before))
	for _, p := range before {
		was[p.ID] = p
	}
	var b bpf
	for i, p := range after {
		dns := p.RunTimeNS - was[p.ID].RunTimeNS
		dcnt := p.RunCount - was[p.ID].RunCount
		b.progs++
		b.totalNS += dns
		b.runs += dcnt
		if dcnt > 0 {
			b.nsPerExec += float64(dns) / float64(dcnt)
		}
		if i == 0 || dcnt < b.minRuns {
			b.minRuns = dcnt
		}
	}
	return b
}

// Pair adds the figures that need the whole pair to its runs (or to a
// tracer's lone run): a tracer's ratio to the rate of the pair's baseline,
// and whether other work disturbed the pair, which it reports. A pair is
// disturbed when other work took more than quiet % of the machine during
// one of its runs; quiet 0 checks nothing.
func Pair(runs []Run, quiet float64) (disturbed bool) {
	base := ""
	for _, r := range runs {
		if r.Config == Baseline && r.Status == StatusOK {
			base = r.Rate
		}
	}
	if quiet > 0 {
		for _, r := range runs {
			if other, ok := number(r.OtherCPUPct); ok && other > quiet {
				disturbed = true
			}
		}
	}
	for i := range runs {
		r := &runs[i]
		if r.Status == StatusUnavailable {
			continue
		}
		if base != "" && r.Config != Baseline {
			r.BaseRate = base
			rate, _ := number(r.Rate)
			baseRate, _ := number(base)
			r.Ratio = scaled(rate, baseRate, 1, 4)
		}
		if quiet > 0 {
			r.Disturbed = "0"
			if disturbed {
				r.Disturbed = "1"
			}
		}
	}
	return disturbed
}

// Line is the run's line on the terminal, "" for a config that never ran;
// its config is padded to width (ConfigWidth of the invocation's configs).
func Line(r Run, rounds, width int) string {
	if !known(r.Round) {
		return ""
	}
	if r.Status == StatusUnavailable {
		return fmt.Sprintf("round %s/%d  pair %-3s %-*s unavailable: %s", r.Round, rounds, r.Pair, width, r.Config, r.Note)
	}
	rate := fmt.Sprintf("%6s", Unknown)
	if v, ok := number(r.Rate); ok {
		rate = fmt.Sprintf("%6.1f", v)
	}
	var marks string
	if peak, ok := number(r.RSSPeakKB); ok {
		marks += fmt.Sprintf("  rss peak %.1f MiB", peak/1024)
		if anon, ok := number(r.RSSAnonKB); ok {
			marks += fmt.Sprintf(", anon %.1f MiB", anon/1024)
		}
	}
	if known(r.Note) {
		marks += "  [" + r.Note + "]"
	}
	if r.Disturbed == "1" {
		marks += "  [disturbed]"
	}
	return fmt.Sprintf("round %s/%d  pair %-3s %-*s %s execs/s  ratio %-6s  cpu %7s us/exec = %-6s s/1000 execs (%s us/any exec)  bpf %5s ns/exec  events %5s (execs %s, seen %s)  drops %s  other %s%%%s",
		r.Round, rounds, r.Pair, width, r.Config, rate, orUnknown(r.Ratio), orUnknown(r.CPUusPerExec),
		orUnknown(r.CPUsPer1000Execs), orUnknown(r.CPUusPerWindowExec), orUnknown(r.BPFnsPerExec),
		orUnknown(r.Events), orUnknown(r.Execs), orUnknown(r.ExecEvents), orUnknown(r.Drops),
		orUnknown(r.OtherCPUPct), marks)
}

// ConfigWidth is the width of the config column for configs: 8, or the
// longest name's.
func ConfigWidth(configs []string) int {
	width := 8
	for _, c := range configs {
		width = max(width, len(c))
	}
	return width
}

// scaled is a*scale/b with decimals digits after the point, Unknown when
// b is 0.
func scaled(a, b, scale float64, decimals int) string {
	if b == 0 {
		return Unknown
	}
	return fixed(a*scale/b, decimals)
}

func fixed(v float64, decimals int) string {
	return strconv.FormatFloat(v, 'f', decimals, 64)
}

// number reads a figure of the results; false when it is unknown.
func number(s string) (float64, bool) {
	if !known(s) {
		return 0, false
	}
	v, err := strconv.ParseFloat(s, 64)
	return v, err == nil
}
