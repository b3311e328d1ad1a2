package report

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/vigil-otel/vigil/recipe"
	"github.com/vigil-otel/vigil/redact"
)

// What every format says of a run: its headline, its figures and each
// detection's command line, marked up by the format's own code and emphasis.

// headline is the report's first line: how many detections, in which
// command (marked up by code) or on the machine.
func (r *Report) headline(code func(string) string) string {
	what := "on the machine"
	if len(r.Command) > 0 {
		what = "in " + code(redact.QuoteArgs(r.Command))
	}
	if r.Total == 0 {
		return "vigil: no detections " + what
	}
	return fmt.Sprintf("vigil: %d detection(s) %s (%s)", r.Total, what, r.importanceList())
}

// plain leaves text as it is, for figures and headline in text.
func plain(s string) string { return oneLine(s) }

// figures is one line of the run's numbers: execs, losses, exit status,
// duration, trace; code and strong mark up the format's code and emphasis.
func (r *Report) figures(code, strong func(string) string) string {
	var parts []string
	if r.Execs != nil {
		parts = append(parts, fmt.Sprintf("execs seen %d", *r.Execs))
	}
	if r.Lost != nil {
		lost := fmt.Sprintf("lost %d", r.Lost.Total)
		if r.Lost.Total > 0 {
			lost = strong(lost) + " (" + stageList(r.Lost.ByStage) + ")"
		}
		parts = append(parts, lost)
	}
	if r.ExitCode != nil {
		parts = append(parts, fmt.Sprintf("exit status %d", *r.ExitCode))
	}
	if !r.Start.IsZero() && !r.End.IsZero() {
		parts = append(parts, "took "+r.End.Sub(r.Start).Round(time.Millisecond).String())
	}
	if r.Policy != nil && !r.Policy.Violated {
		parts = append(parts, fmt.Sprintf("nothing at or above %s", r.Policy.FailOn))
	}
	if r.TraceID != "" {
		parts = append(parts, "trace "+code(r.TraceID))
	}
	return strings.Join(parts, " · ")
}

// importanceList is "1 high, 2 low": the counts, most important first.
func (r *Report) importanceList() string {
	counts := r.byImportance()
	var parts []string
	for imp := recipe.Critical; imp >= recipe.Low; imp-- {
		if n := counts[imp]; n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", n, imp))
		}
	}
	return strings.Join(parts, ", ")
}

// commandLine is what ran, on one line: the arguments quoted where they
// hold spaces or anything unprintable, or the executable alone; a command
// line the sensor cut says so.
func commandLine(d *Detection) string {
	if len(d.Args) == 0 {
		return redact.Quote(d.Executable)
	}
	if d.ArgsTruncated {
		return fmt.Sprintf("%s … (cut; %d arguments)", redact.QuoteArgs(d.Args), d.ArgsCount)
	}
	return redact.QuoteArgs(d.Args)
}

// stageList is "ring_buffer 3, export 2": the stages that lost something.
func stageList(byStage map[string]uint64) string {
	var parts []string
	for _, stage := range slices.Sorted(maps.Keys(byStage)) {
		if n := byStage[stage]; n > 0 {
			parts = append(parts, fmt.Sprintf("%s %d", stage, n))
		}
	}
	return strings.Join(parts, ", ")
}
