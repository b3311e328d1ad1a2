package report

import (
	"fmt"
	"io"
	"strconv"
	"strings"
)

// Write prints the summary: a line per config, the tracers' memory, the
// baseline's spread, the undisturbed pairs and vigil against its aims.
func (s Summary) Write(w io.Writer) error {
	var b strings.Builder
	names := make([]string, len(s.Configs))
	for i, c := range s.Configs {
		names[i] = c.Config
	}
	// The config column: 9 wide, as ever, unless a name needs more.
	width := ConfigWidth(names) + 1
	const row = "%-*s %4s  %-6s %-11s %7s  %7s  %7s  %7s  %8s  %7s  %6s  %6s  %6s  %5s  %6s\n"
	fmt.Fprintf(&b, row, width, "config", "runs", "ratio", "range", "execs/s", "base/s", "CPU s/", "CPU us/", "CPU us/", "BPF ns/", "events", "execs", "seen", "drops", "other")
	fmt.Fprintf(&b, row, width, "", "", "", "", "", "", "1k exec", "exec", "any exec", "exec", "", "", "", "", "CPU %")
	for _, c := range s.Configs {
		if c.Unavailable != "" && c.Runs+c.Disturbed+c.Failed == 0 {
			fmt.Fprintf(&b, "%-*s unavailable: %s\n", width, c.Config, c.Unavailable)
			continue
		}
		if c.Runs+c.Disturbed+c.Failed == 0 {
			fmt.Fprintf(&b, "%-*s no runs\n", width, c.Config)
			continue
		}
		fmt.Fprintf(&b, row, width, c.Config, strconv.Itoa(c.Runs), c.Ratio.median("%.3f"), c.Ratio.span("%.3f"),
			c.Rate.median("%.1f"), c.BaseRate.median("%.1f"), c.CPUsPer1000Execs.median("%.4f"),
			c.CPUusPerExec.median("%.2f"), c.CPUusPerWindowExec.median("%.2f"), c.BPFnsPerExec.median("%.0f"),
			c.Events, integer(c.Execs), c.ExecEvents, c.Drops, c.OtherCPUPct.median("%.1f"))
		if c.Disturbed > 0 {
			fmt.Fprintf(&b, "%-*s (%d more runs disturbed by other work: in the totals, not the medians)\n", width, "", c.Disturbed)
		}
		for _, f := range c.FailedWhy {
			fmt.Fprintf(&b, "%-*s (%d more runs failed: %s)\n", width, "", f.Runs, f.Why)
		}
		if c.Unavailable != "" {
			fmt.Fprintf(&b, "%-*s (then unavailable: %s)\n", width, "", c.Unavailable)
		}
	}
	s.writeMemory(&b, width)
	if base := s.Baseline; base.N > 0 {
		spread := 0.0
		if base.Median > 0 {
			spread = 100 * (base.High - base.Low) / base.Median
		}
		fmt.Fprintf(&b, "\nbaseline rate over its %d undisturbed runs: median %.1f, range %s execs/s (spread %.1f%% of the median)\n",
			base.N, base.Median, base.span("%.1f"), spread)
	}
	s.writePairs(&b, width-1)
	if a := s.Aims; a != nil {
		fmt.Fprintf(&b, "\nvigil against its aims: rate >= %.0f%% of baseline %s, CPU < %d us/exec %s, zero drops %s\n",
			aimRatio*100, a.Ratio, aimCPUusPerExec, a.CPU, a.Drops)
	}
	if f := s.Footprint; f != nil {
		fmt.Fprintf(&b, "\nvigil against its aims of detection CPU and memory:\n")
		fmt.Fprintf(&b, "  detected exec CPU <= %s's line per exec: %s (median CPU per storm exec: %s %s us, %s %s us)\n",
			Comparison, f.DetectCPU, VigilDetects, f.DetectCPUus.median("%.2f"), Comparison, f.ComparisonUS.median("%.2f"))
		fmt.Fprintf(&b, "  resident memory <= %d MiB: %s (%s's median anonymous resident memory, RssAnon, %s MiB; peak resident set, VmHWM, %s MiB)\n",
			aimRSSAnonMiB, f.Memory, Vigil, f.RSSAnonKB.mebibytes(), f.RSSPeakKB.mebibytes())
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// writeMemory prints each tracer's resident memory, when any was read.
func (s Summary) writeMemory(b *strings.Builder, width int) {
	var measured []ConfigSummary
	for _, c := range s.Configs {
		if c.RSSPeakKB.N+c.RSSAnonKB.N > 0 {
			measured = append(measured, c)
		}
	}
	if len(measured) == 0 {
		return
	}
	const row = "%-*s %4s  %-20s  %s\n"
	b.WriteString("\nthe tracer's resident memory, MiB, median and range over its completed runs (read before it stopped):\n")
	fmt.Fprintf(b, row, width, "config", "runs", "peak (VmHWM)", "anonymous (RssAnon)")
	for _, c := range measured {
		fmt.Fprintf(b, row, width, c.Config, strconv.Itoa(max(c.RSSPeakKB.N, c.RSSAnonKB.N)),
			c.RSSPeakKB.mebibytes()+" ("+c.RSSPeakKB.mebibyteSpan()+")",
			c.RSSAnonKB.mebibytes()+" ("+c.RSSAnonKB.mebibyteSpan()+")")
	}
}

// writePairs prints the undisturbed pairs, then each tracer's median
// ratio by its place in the pair: what favours the first or the second
// run of a pair shows there.
func (s Summary) writePairs(b *strings.Builder, width int) {
	if len(s.Pairs) == 0 {
		return
	}
	const row = "%-5s %-4s %-*s %-7s %-5s  %-5s  %-5s  %11s  %11s  %5s\n"
	b.WriteString("\nundisturbed pairs (order T,none: the tracer ran first):\n")
	fmt.Fprintf(b, row, "round", "pair", width, "config", "order", "rate", "base", "ratio", "CPU us/exec", "BPF ns/exec", "drops")
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
		fmt.Fprintf(b, row, r.Round, r.Pair, width, r.Config, order, r.Rate, r.BaseRate, fixed(ratio, 3),
			orUnknown(r.CPUusPerExec), orUnknown(r.BPFnsPerExec), orUnknown(r.Drops))
	}
	for _, c := range s.Configs {
		if len(first[c.Config])+len(second[c.Config]) == 0 {
			continue
		}
		f, sec := stat(first[c.Config]), stat(second[c.Config])
		fmt.Fprintf(b, "%-*s median ratio %s when it ran first (%s), %s when it ran second (%s)\n",
			width+1, c.Config, f.median("%.3f"), pairs(f.N), sec.median("%.3f"), pairs(sec.N))
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

// mebibytes is the median of a figure in kB, in MiB.
func (s Stat) mebibytes() string {
	if s.N == 0 {
		return Unknown
	}
	return fmt.Sprintf("%.1f", s.Median/1024)
}

// mebibyteSpan is the range of a figure in kB, in MiB.
func (s Stat) mebibyteSpan() string {
	if s.N == 0 {
		return Unknown
	}
	return fmt.Sprintf("%.1f-%.1f", s.Low/1024, s.High/1024)
}

func (t Total) String() string {
	if !t.Known {
		return Unknown
	}
	return integer(t.Sum)
}

func integer(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }
