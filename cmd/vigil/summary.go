package main

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/vigil-otel/vigil/pipeline"
	"github.com/vigil-otel/vigil/recipe"
)

// The run's summary: what vigil counted, written to stderr at its end so
// that what was seen and what was lost is never silent.

// printSummary writes what the run counted: the counts of
// pipeline.Counters, then the breakdowns.
func printSummary(w io.Writer, s pipeline.Summary) {
	fmt.Fprintf(w, "vigil: %s\n", countLine(s))
	if secs := s.Duration.Seconds(); s.Execs > 0 && secs > 0 {
		fmt.Fprintf(w, "vigil: execs %d in %s (%.1f/s)\n", s.Execs, s.Duration.Round(time.Millisecond), float64(s.Execs)/secs)
	}
	if s.Detections > 0 {
		var levels []string
		for _, imp := range []recipe.Importance{recipe.Critical, recipe.High, recipe.Medium, recipe.Low} {
			if n := s.ByImportance[imp]; n > 0 {
				levels = append(levels, fmt.Sprintf("%s %d", imp, n))
			}
		}
		fmt.Fprintf(w, "vigil: detections by importance: %s; by recipe: %s\n", strings.Join(levels, ", "), countList(s.ByRecipe))
	}
	if len(s.Suppressed) > 0 {
		fmt.Fprintf(w, "vigil: matches held back by report limits: %s\n", countList(s.Suppressed))
	}
	if len(s.EvalErrors) > 0 {
		fmt.Fprintf(w, "vigil: recipe expressions that failed at run time, and did not match: %s\n", countList(s.EvalErrors))
	}
}

// countLine writes the counts of pipeline.Counters that have a label:
// what was seen, then what was lost, with its total and by what, then
// what was degraded. "events 10, detections 1; lost 0 (ring buffer full
// 0); process table evictions 0".
func countLine(s pipeline.Summary) string {
	var seen, lost, degraded []string
	for _, c := range pipeline.Counters() {
		if c.Label == "" {
			continue
		}
		part := fmt.Sprintf("%s %d", c.Label, c.Value(s))
		switch c.Kind {
		case pipeline.Seen:
			seen = append(seen, part)
		case pipeline.Lost:
			lost = append(lost, part)
		case pipeline.Degraded:
			degraded = append(degraded, part)
		}
	}
	parts := []string{strings.Join(seen, ", "), fmt.Sprintf("lost %d (%s)", s.Lost(), strings.Join(lost, ", "))}
	return strings.Join(append(parts, degraded...), "; ")
}

// countList writes counts by name, names sorted: "a 1, b 2".
func countList(counts map[string]uint64) string {
	names := slices.Sorted(maps.Keys(counts))
	parts := make([]string, len(names))
	for i, n := range names {
		parts[i] = fmt.Sprintf("%s %d", n, counts[n])
	}
	return strings.Join(parts, ", ")
}
