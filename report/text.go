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
	fmt.Fprintf(bw, "%s\n", r.headline(oneLine))
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
		fmt.Fprintf(bw, "%s\n", p)
	}

	return bw.Flush()
}

// textFigures is figures without Markdown.
func (r *Report) textFigures() string {
	return strings.NewReplacer("**", "", "<code>", "", "</code>", "").Replace(r.figures())
}
