package report

import (
	"slices"
)

// vigil's aims (bench/README.md, "Against the aims").
const (
	aimRatio        = 0.98 // at least 98% of the baseline exec rate
	aimCPUusPerExec = 10   // under 10 µs of CPU per exec
	// At most 40 MiB resident watching the machine with the full catalog;
	// the anonymous part, what vigil itself allocates, is held to it.
	aimRSSAnonMiB = 40
)

// Comparison is the tracer whose CPU per exec a detected exec of vigil's
// must not exceed: bpftrace printing a line per exec.
const Comparison = "bpftrace"

// Summary is what an invocation's runs come to.
type Summary struct {
	Configs []ConfigSummary
	// Baseline is the rate of the undisturbed baseline runs; N 0 without
	// any.
	Baseline Stat
	// Pairs are the tracer runs of the undisturbed pairs that had a
	// baseline, in the order they ran.
	Pairs []Run
	// Aims is vigil against its aims, nil when vigil did not run.
	Aims *Aims
	// Footprint is vigil against its aims of CPU per detected exec and of
	// resident memory; nil when neither vigil nor vigil-detect ran, or
	// when the results hold no memory figure and no vigil-detect run (a
	// file from before these were measured).
	Footprint *Footprint
}

// ConfigSummary is one config's line of the summary: medians over its
// undisturbed runs (for a tracer, its undisturbed pairs), totals over
// every run that completed, disturbed ones too.
type ConfigSummary struct {
	Config string
	// Runs completed and undisturbed, completed but disturbed, and failed
	// (the tracer died, or vigil-detect missed storm execs), by why.
	Runs, Disturbed, Failed int
	FailedWhy               []Reason
	// Unavailable says why the config could not run (or could not run any
	// more), "" if it could.
	Unavailable string

	Ratio, Rate, BaseRate                              Stat
	CPUsPer1000Execs, CPUusPerExec, CPUusPerWindowExec Stat
	BPFnsPerExec, OtherCPUPct                          Stat
	Execs                                              float64
	Events, ExecEvents, Drops                          Total
	// RSSPeakKB and RSSAnonKB are over every completed run, disturbed ones
	// too: other work's CPU does not change a tracer's memory.
	RSSPeakKB, RSSAnonKB Stat
}

// Reason is why some runs failed, and how many.
type Reason struct {
	Why  string
	Runs int
}

// Stat is the median and range of a figure over some runs.
type Stat struct {
	N                 int // runs where the figure is known; 0: no median
	Median, Low, High float64
}

// Total is a sum over runs, known if the figure was known in any of them.
type Total struct {
	Sum   float64
	Known bool
}

// Aims is vigil against each of its aims: "met", "MISSED" or why it is
// unknown.
type Aims struct {
	Ratio, CPU, Drops string
}

// Footprint is vigil against two aims, each "met", "MISSED" or why it is
// unknown, with the figures each compares.
type Footprint struct {
	// DetectCPU: vigil-detect's median CPU per storm exec, every one a
	// detection, at most bpftrace's.
	DetectCPU                 string
	DetectCPUus, ComparisonUS Stat
	// Memory: vigil's median anonymous resident memory at most
	// aimRSSAnonMiB; its peak resident set is shown beside it.
	Memory               string
	RSSAnonKB, RSSPeakKB Stat
}

// Summarize summarizes the runs of an invocation, config by config in
// the order of configs; without configs, in the order they first
// ran.
func Summarize(runs []Run, configs []string) Summary {
	if len(configs) == 0 {
		for _, r := range runs {
			configs = append(configs, r.Config)
		}
	}
	var s Summary
	seen := make(map[string]bool)
	for _, c := range configs {
		if seen[c] {
			continue
		}
		seen[c] = true
		cs := summarizeConfig(runs, c)
		s.Configs = append(s.Configs, cs)
		if c == Baseline {
			s.Baseline = cs.Rate
		}
		if c == Vigil && cs.Runs+cs.Disturbed > 0 {
			s.Aims = vigilAims(cs)
		}
	}
	s.Footprint = footprint(s.Configs)
	for _, r := range runs {
		if r.Config != Baseline && seen[r.Config] && undisturbed(r) && known(r.Ratio) {
			s.Pairs = append(s.Pairs, r)
		}
	}
	return s
}

func undisturbed(r Run) bool { return r.Status == StatusOK && r.Disturbed != "1" }

func summarizeConfig(runs []Run, config string) ConfigSummary {
	cs := ConfigSummary{Config: config}
	var ratio, rate, base, cpuK, cpu, cpuWindow, bpfNS, other, rssPeak, rssAnon []float64
	for _, r := range runs {
		if r.Config != config {
			continue
		}
		switch r.Status {
		case StatusUnavailable:
			cs.Unavailable = r.Note
			continue
		case StatusOK:
		default:
			cs.Failed++
			cs.FailedWhy = addReason(cs.FailedWhy, r.Note)
			continue
		}
		for _, f := range []struct {
			list *[]float64
			cell string
		}{{&rssPeak, r.RSSPeakKB}, {&rssAnon, r.RSSAnonKB}} {
			if v, ok := number(f.cell); ok {
				*f.list = append(*f.list, v)
			}
		}
		execs, _ := number(r.Execs)
		cs.Execs += execs
		cs.Events.add(r.Events)
		cs.ExecEvents.add(r.ExecEvents)
		cs.Drops.add(r.Drops)
		if r.Disturbed == "1" {
			cs.Disturbed++
			continue
		}
		cs.Runs++
		for _, f := range []struct {
			list *[]float64
			cell string
		}{
			{&ratio, r.Ratio}, {&rate, r.Rate}, {&base, r.BaseRate},
			{&cpuK, r.CPUsPer1000Execs}, {&cpu, r.CPUusPerExec}, {&cpuWindow, r.CPUusPerWindowExec},
			{&bpfNS, r.BPFnsPerExec}, {&other, r.OtherCPUPct},
		} {
			if v, ok := number(f.cell); ok {
				*f.list = append(*f.list, v)
			}
		}
	}
	cs.Ratio, cs.Rate, cs.BaseRate = stat(ratio), stat(rate), stat(base)
	cs.CPUsPer1000Execs, cs.CPUusPerExec, cs.CPUusPerWindowExec = stat(cpuK), stat(cpu), stat(cpuWindow)
	cs.BPFnsPerExec, cs.OtherCPUPct = stat(bpfNS), stat(other)
	cs.RSSPeakKB, cs.RSSAnonKB = stat(rssPeak), stat(rssAnon)
	return cs
}

// addReason counts one more failed run whose note is note.
func addReason(reasons []Reason, note string) []Reason {
	why := note
	if !known(note) || note == NoteTracerDied {
		why = "the tracer died"
	}
	for i := range reasons {
		if reasons[i].Why == why {
			reasons[i].Runs++
			return reasons
		}
	}
	return append(reasons, Reason{Why: why, Runs: 1})
}

func (t *Total) add(cell string) {
	if v, ok := number(cell); ok {
		t.Sum += v
		t.Known = true
	}
}

// stat is the median and range of values; the median of an even number
// of values is the mean of the middle two.
func stat(values []float64) Stat {
	n := len(values)
	if n == 0 {
		return Stat{}
	}
	v := slices.Clone(values)
	slices.Sort(v)
	m := v[n/2]
	if n%2 == 0 {
		m = (v[n/2-1] + v[n/2]) / 2
	}
	return Stat{N: n, Median: m, Low: v[0], High: v[n-1]}
}

func vigilAims(vigil ConfigSummary) *Aims {
	a := &Aims{Ratio: "unknown (no undisturbed pair with a baseline)", CPU: "unknown", Drops: "unknown"}
	if vigil.Ratio.N > 0 {
		a.Ratio = verdict(vigil.Ratio.Median >= aimRatio)
	}
	if vigil.CPUusPerExec.N > 0 {
		a.CPU = verdict(vigil.CPUusPerExec.Median < aimCPUusPerExec)
	}
	if vigil.Drops.Known {
		a.Drops = verdict(vigil.Drops.Sum == 0)
	}
	return a
}

// footprint compares vigil-detect's CPU per storm exec with bpftrace's and
// vigil's memory with its aim, when the configs have figures for either.
func footprint(configs []ConfigSummary) *Footprint {
	byName := make(map[string]ConfigSummary, len(configs))
	measured := false
	for _, c := range configs {
		byName[c.Config] = c
		measured = measured || c.RSSPeakKB.N > 0 || c.RSSAnonKB.N > 0
	}
	vigil, vigilRan := byName[Vigil]
	detect, detectRan := byName[VigilDetects]
	vigilRan = vigilRan && vigil.Runs+vigil.Disturbed > 0
	detectRan = detectRan && detect.Runs+detect.Disturbed+detect.Failed > 0
	if !(vigilRan || detectRan) || !(measured || detectRan) {
		return nil
	}
	comparison := byName[Comparison]
	f := &Footprint{
		DetectCPUus: detect.CPUusPerExec, ComparisonUS: comparison.CPUusPerExec,
		RSSAnonKB: vigil.RSSAnonKB, RSSPeakKB: vigil.RSSPeakKB,
	}
	switch {
	case f.DetectCPUus.N == 0:
		f.DetectCPU = "unknown (no undisturbed " + VigilDetects + " run with its CPU)"
	case f.ComparisonUS.N == 0:
		f.DetectCPU = "unknown (no undisturbed " + Comparison + " run with its CPU)"
	default:
		f.DetectCPU = verdict(f.DetectCPUus.Median <= f.ComparisonUS.Median)
	}
	if f.RSSAnonKB.N == 0 {
		f.Memory = "unknown (no " + Vigil + " run with its memory read)"
	} else {
		f.Memory = verdict(f.RSSAnonKB.Median <= aimRSSAnonMiB*1024)
	}
	return f
}

func verdict(met bool) string {
	if met {
		return "met"
	}
	return "MISSED"
}
