package report

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"
)

// WriteJSON writes the report as indented JSON, which Read reads back.
func (r *Report) WriteJSON(w io.Writer) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(r); err != nil {
		return fmt.Errorf("write JSON report: %w", err)
	}
	return nil
}

// WriteText writes the report for a terminal: the headline, then one line
// per detection, most important first.
func (r *Report) WriteText(w io.Writer) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	bw := bufio.NewWriter(w)
	what := "on the machine"
	if len(r.Command) > 0 {
		what = "in " + oneLine(strings.Join(r.Command, " "))
	}
	if r.Total == 0 {
		fmt.Fprintf(bw, "vigil: no detections %s\n", what)
	} else {
		fmt.Fprintf(bw, "vigil: %d detection(s) %s (%s)\n", r.Total, what, r.importanceList())
	}
	if fig := r.textFigures(); fig != "" {
		fmt.Fprintf(bw, "%s\n", fig)
	}
	for _, d := range r.sorted() {
		fmt.Fprintf(bw, "%-8s %s  %s  pid %d  %s", d.Importance, d.Time.UTC().Format(time.TimeOnly), d.Recipe, d.PID, commandLine(&d))
		if where := d.Where(); where != "" {
			fmt.Fprintf(bw, "  [%s]", oneLine(where))
		}
		bw.WriteByte('\n')
	}
	if r.Omitted > 0 {
		fmt.Fprintf(bw, "%d more detection(s) counted, not listed\n", r.Omitted)
	}
	if p := r.Policy; p != nil && p.Violated {
		var names []string
		for _, c := range p.DecidedBy {
			names = append(names, fmt.Sprintf("%s %d", c.Recipe, c.Count))
		}
		fmt.Fprintf(bw, "--fail-on %s: decided by %s\n", p.FailOn, strings.Join(names, ", "))
	}
	return bw.Flush()
}

// textFigures is figures without Markdown.
func (r *Report) textFigures() string {
	return strings.NewReplacer("**", "", "<code>", "", "</code>", "").Replace(r.figures())
}
