package report

import (
	"bufio"
	"fmt"
	"io"
	"time"
)

// WriteText writes the report for a terminal: the headline, then one line
// per detection, most important first.
func (r *Report) WriteText(w io.Writer) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	bw := bufio.NewWriter(w)
	fmt.Fprintf(bw, "%s\n", r.headline(plain))
	if fig := r.figures(plain, plain); fig != "" {
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
