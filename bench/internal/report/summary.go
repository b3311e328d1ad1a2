package report

import (
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
)

// vigil's aims (bench/README.md, "Against the aims").
const (
	aimRatio        = 0.98 // at least 98% of the baseline exec rate
	aimCPUusPerExec = 10   // under 10 µs of CPU per exec
)

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
}

// ConfigSummary is one config's line of the summary: medians over its
// undisturbed runs (for a tracer, its undisturbed pairs), totals over
// every run that completed, disturbed ones too.
type ConfigSummary struct {
	Config string
	// Runs completed and undisturbed, completed but disturbed, and failed
	// (the tracer died).
	Runs, Disturbed, Failed int
	// Unavailable says why the config could not run (or could not run any
	// more), "" if it could.
	Unavailable string

	Ratio, Rate, BaseRate                              Stat
	CPUsPer1000Execs, CPUusPerExec, CPUusPerWindowExec Stat
	BPFnsPerExec, OtherCPUPct                          Stat
	Execs                                              float64
	Events, ExecEvents, Drops                          Total
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
		if c == "vigil" && cs.Runs+cs.Disturbed > 0 {
			s.Aims = vigilAims(cs)
		}
	}
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
	var ratio, rate, base, cpuK, cpu, cpuWindow, bpfNS, other []float64
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
			continue
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
	return cs
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

func verdict(met bool) string {
	if met {
		return "met"
	}
	return "MISSED"
}

// Write prints the summary: a line per config, the baseline's spread, the
// undisturbed pairs and vigil against its aims.
func (s Summary) Write(w io.Writer) error {
	var b strings.Builder
	const row = "%-9s %4s  %-6s %-11s %7s  %7s  %7s  %7s  %8s  %7s  %6s  %6s  %6s  %5s  %6s\n"
	fmt.Fprintf(&b, row, "config", "runs", "ratio", "range", "execs/s", "base/s", "CPU s/", "CPU us/", "CPU us/", "BPF ns/", "events", "execs", "seen", "drops", "other")
	fmt.Fprintf(&b, row, "", "", "", "", "", "", "1k exec", "exec", "any exec", "exec", "", "", "", "", "CPU %")
	for _, c := range s.Configs {
		if c.Unavailable != "" && c.Runs+c.Disturbed+c.Failed == 0 {
			fmt.Fprintf(&b, "%-9s unavailable: %s\n", c.Config, c.Unavailable)
			continue
		}
		if c.Runs+c.Disturbed+c.Failed == 0 {
			fmt.Fprintf(&b, "%-9s no runs\n", c.Config)
			continue
		}
		fmt.Fprintf(&b, row, c.Config, strconv.Itoa(c.Runs), c.Ratio.median("%.3f"), c.Ratio.span("%.3f"),
			c.Rate.median("%.1f"), c.BaseRate.median("%.1f"), c.CPUsPer1000Execs.median("%.4f"),
			c.CPUusPerExec.median("%.2f"), c.CPUusPerWindowExec.median("%.2f"), c.BPFnsPerExec.median("%.0f"),
			c.Events, integer(c.Execs), c.ExecEvents, c.Drops, c.OtherCPUPct.median("%.1f"))
		if c.Disturbed > 0 {
			fmt.Fprintf(&b, "%-9s (%d more runs disturbed by other work: in the totals, not the medians)\n", "", c.Disturbed)
		}
		if c.Failed > 0 {
			fmt.Fprintf(&b, "%-9s (%d more runs failed: the tracer died)\n", "", c.Failed)
		}
		if c.Unavailable != "" {
			fmt.Fprintf(&b, "%-9s (then unavailable: %s)\n", "", c.Unavailable)
		}
	}
	if base := s.Baseline; base.N > 0 {
		spread := 0.0
		if base.Median > 0 {
			spread = 100 * (base.High - base.Low) / base.Median
		}
		fmt.Fprintf(&b, "\nbaseline rate over its %d undisturbed runs: median %.1f, range %s execs/s (spread %.1f%% of the median)\n",
			base.N, base.Median, base.span("%.1f"), spread)
	}
	s.writePairs(&b)
	if a := s.Aims; a != nil {
		fmt.Fprintf(&b, "\nvigil against its aims: rate >= %.0f%% of baseline %s, CPU < %d us/exec %s, zero drops %s\n",
			aimRatio*100, a.Ratio, aimCPUusPerExec, a.CPU, a.Drops)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// writePairs prints the undisturbed pairs, then each tracer's median
// ratio by its place in the pair: what favours the first or the second
// run of a pair shows there.
func (s Summary) writePairs(b *strings.Builder) {
	if len(s.Pairs) == 0 {
		return
	}
	const row = "%-5s %-4s %-8s %-7s %-5s  %-5s  %-5s  %11s  %11s  %5s\n"
	b.WriteString("\nundisturbed pairs (order T,none: the tracer ran first):\n")
	fmt.Fprintf(b, row, "round", "pair", "config", "order", "rate", "base", "ratio", "CPU us/exec", "BPF ns/exec", "drops")
	first := make(map[string][]float64)
	second := make(map[string][]float64)
	for _, r := range s.Pairs {
		order := "none,T"
		if r.Position == "1" {
			order = "T,none"
		}
		ratio, _ := number(r.Ratio)
		if r.Position == "1" {
			first[r.Config] = append(first[r.Config], ratio)
		} else {
			second[r.Config] = append(second[r.Config], ratio)
		}
		fmt.Fprintf(b, row, r.Round, r.Pair, r.Config, order, r.Rate, r.BaseRate, fixed(ratio, 3),
			orUnknown(r.CPUusPerExec), orUnknown(r.BPFnsPerExec), orUnknown(r.Drops))
	}
	for _, c := range s.Configs {
		if len(first[c.Config])+len(second[c.Config]) == 0 {
			continue
		}
		f, sec := stat(first[c.Config]), stat(second[c.Config])
		fmt.Fprintf(b, "%-9s median ratio %s when it ran first (%s), %s when it ran second (%s)\n",
			c.Config, f.median("%.3f"), pairs(f.N), sec.median("%.3f"), pairs(sec.N))
	}
}

func pairs(n int) string {
	if n == 1 {
		return "1 pair"
	}
	return strconv.Itoa(n) + " pairs"
}

func (s Stat) median(format string) string {
	if s.N == 0 {
		return Unknown
	}
	return fmt.Sprintf(format, s.Median)
}

func (s Stat) span(format string) string {
	if s.N == 0 {
		return Unknown
	}
	return fmt.Sprintf(format+"-"+format, s.Low, s.High)
}

func (t Total) String() string {
	if !t.Known {
		return Unknown
	}
	return integer(t.Sum)
}

func integer(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }
