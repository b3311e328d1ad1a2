package report

import (
	"bytes"
	"cmp"
	"fmt"
	"io"
	"strings"
	"time"
)

// MarkdownLimit is the most bytes the Markdown report takes: GitHub shows
// at most 1 MiB of a step's summary, and refuses the whole of a bigger
// one.
const MarkdownLimit = 1 << 20

// Bounds of the Markdown report, within MarkdownLimit: table rows and
// collapsible details beyond them are left to the JSON report, and said.
const (
	maxTableRows = 1000
	maxStepRows  = 50
	maxDetails   = 100
	// footerRoom is kept for the lines that close the report.
	footerRoom = 4 << 10
	// maxCell bounds the text of one table cell.
	maxCell = 160
)

// WriteMarkdown writes the report as Markdown for a job summary (GitHub's
// $GITHUB_STEP_SUMMARY, a merge request note, an artifact): a headline, a
// table of the detections by importance then time, the detections by step,
// and the details of the first ones, within MarkdownLimit. Every string a
// process controls is escaped: a command line cannot add markup.
func (r *Report) WriteMarkdown(w io.Writer) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	var b bytes.Buffer
	r.markdownHeadline(&b)
	if r.Total == 0 {
		_, err := w.Write(b.Bytes())
		return err
	}
	all := r.sorted()
	budget := MarkdownLimit - footerRoom

	b.WriteString("\n| Importance | Time | Recipe | What ran | Parent | Step |\n|---|---|---|---|---|---|\n")
	rows := 0
	for i := range all {
		if rows == maxTableRows {
			break
		}
		row := markdownRow(&all[i])
		if b.Len()+len(row) > budget/2 {
			break
		}
		b.WriteString(row)
		rows++
	}
	if left := r.Total - uint64(rows); left > 0 {
		fmt.Fprintf(&b, "\n%d more detection(s) are not in this table: the JSON report (`--report json`) lists %d in all.\n", left, len(r.Detections))
	}

	if steps := r.steps(); len(steps) > 1 || len(steps) == 1 && steps[0].step != "" {
		// Steps are named by each process's own environment: a hostile
		// one can invent a step per exec, so they are bounded too.
		b.WriteString("\n**By step**\n\n| Step | Detections | Highest |\n|---|---|---|\n")
		shown := 0
		for _, s := range steps {
			row := fmt.Sprintf("| %s | %d | %s |\n", cell(cmp.Or(s.step, "(outside a step)")), s.count, s.highest)
			if shown == maxStepRows || b.Len()+len(row) > budget*3/4 {
				break
			}
			b.WriteString(row)
			shown++
		}
		if shown < len(steps) {
			fmt.Fprintf(&b, "\n%d more step(s) had detections: the JSON report has them.\n", len(steps)-shown)
		}
	}

	b.WriteString("\n")
	details := 0
	for i := range all {
		if details == maxDetails {
			break
		}
		d := markdownDetails(&all[i])
		if b.Len()+len(d) > budget {
			break
		}
		b.WriteString(d)
		details++
	}
	if details < len(all) {
		fmt.Fprintf(&b, "\nDetails of %d detection(s) are shown above; the JSON report has them all.\n", details)
	}
	_, err := w.Write(b.Bytes())
	return err
}

// markdownHeadline writes the title and the run's figures; a clean run
// says so in that one line.
func (r *Report) markdownHeadline(b *bytes.Buffer) {
	fmt.Fprintf(b, "### %s\n", r.headline(markdownCode))
	if fig := r.figures(markdownCode, markdownStrong); fig != "" {
		fmt.Fprintf(b, "\n%s\n", fig)
	}
	if p := r.Policy; p != nil && p.Violated {
		fmt.Fprintf(b, "\n**%s**\n", cell(p.String()))
	}

}

// markdownCode and markdownStrong mark text up for figures and headline.
func markdownCode(s string) string   { return "<code>" + cell(s) + "</code>" }
func markdownStrong(s string) string { return "**" + s + "**" }

// markdownRow is one detection's table row.
func markdownRow(d *Detection) string {
	parent := ""
	if len(d.Ancestors) > 0 {
		parent = "<code>" + cell(withoutPID(d.Ancestors[0])) + "</code>"
	}
	return fmt.Sprintf("| %s | %s | %s | <code>%s</code> | %s | %s |\n",
		d.Importance, d.Time.UTC().Format("15:04:05"), recipeLink(d), cell(commandLine(d)), parent, cell(d.Where()))
}

// markdownDetails is one detection's collapsible details: what the recipe
// says, ATT&CK, the process and its chain, the trace.
func markdownDetails(d *Detection) string {
	var b strings.Builder
	fmt.Fprintf(&b, "<details><summary>%s %s: %s (pid %d)</summary>\n\n", d.Importance, cell(d.Recipe), cell(d.Executable), d.PID)
	if d.Description != "" {
		fmt.Fprintf(&b, "%s. ", cell(d.Description))
	}
	if d.Reference != "" {
		fmt.Fprintf(&b, "[What it means and what to do](%s).", urlOf(d.Reference))
	}
	b.WriteString("\n\n")
	if d.Tactic != "" || d.Technique != "" {
		fmt.Fprintf(&b, "- ATT&amp;CK: %s / %s\n", cell(d.Tactic), cell(d.Technique))
	}
	fmt.Fprintf(&b, "- At %s, user id %d", d.Time.UTC().Format(time.RFC3339Nano), d.UserID)
	if d.Cwd != "" {
		fmt.Fprintf(&b, ", in <code>%s</code>", cell(d.Cwd))
	}
	if d.ContainerID != "" {
		fmt.Fprintf(&b, ", container <code>%s</code>", cell(d.ContainerID))
	}
	b.WriteString("\n")
	if where := d.Where(); where != "" {
		fmt.Fprintf(&b, "- Step: %s\n", cell(where))
	}
	if d.TraceID != "" {
		fmt.Fprintf(&b, "- Trace <code>%s</code>, span <code>%s</code>\n", cell(d.TraceID), cell(d.SpanID))
	}
	// <pre> is an HTML block: Markdown inside it is not read, and
	// escaping keeps a command line from closing it.
	if len(d.Steps) > 0 {
		b.WriteString("\nAfter these steps, oldest first:\n\n<pre>\n")
		for _, s := range d.Steps {
			b.WriteString(preLine(s))
			b.WriteByte('\n')
		}
		b.WriteString("</pre>\n")
	}
	b.WriteString("\n<pre>\n")
	fmt.Fprintf(&b, "%d %s\n", d.PID, preLine(commandLine(d)))
	for _, a := range d.Ancestors {
		b.WriteString(preLine(a))
		b.WriteByte('\n')
	}
	// The blank line ends the HTML block: whatever is appended next (a
	// job summary gathers every step's) is Markdown again.
	b.WriteString("</pre>\n\n</details>\n\n")
	return b.String()
}

// recipeLink is the recipe's name, linked to its page when it has one.
func recipeLink(d *Detection) string {
	if d.Reference == "" {
		return cell(d.Recipe)
	}
	return "[" + cell(d.Recipe) + "](" + urlOf(d.Reference) + ")"
}

// withoutPID drops the leading "PID " of an ancestor's line.
func withoutPID(line string) string {
	if _, rest, ok := strings.Cut(line, " "); ok {
		return rest
	}
	return line
}
