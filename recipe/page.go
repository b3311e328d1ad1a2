package recipe

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/vigil-otel/vigil/recipe/attack"
)

// attackLink links a tactic or technique to its ATT&CK page.
func attackLink(a ATTACK) string {
	return fmt.Sprintf("[%s (%s)](%s)", a.Name, a.ID, attack.URL(a.ID))
}

// ReferenceURL is where a built-in recipe's page is published; detections
// carry it in security_rule.reference.
func ReferenceURL(name string) string {
	return "https://github.com/vigil-otel/vigil/blob/main/docs/recipes/" + name + ".md"
}

// WritePage writes the recipe's user page in Markdown: the quick
// explanation, the information block, how the detection works, what it
// means for a CI/CD pipeline, and the recommended actions.
func WritePage(w io.Writer, r *Recipe) error {
	d := r.Documentation
	var b strings.Builder
	fmt.Fprintf(&b, "<!-- Generated from %s by `vigil recipes docs`. DO NOT EDIT. -->\n\n", sourceFile(r.Source))
	fmt.Fprintf(&b, "# %s\n\n%s\n\n", r.Name, d.Summary)
	b.WriteString("## Information\n\n")
	fmt.Fprintf(&b, "| | |\n|---|---|\n")
	fmt.Fprintf(&b, "| Description | %s |\n", r.Description)
	fmt.Fprintf(&b, "| Tactic | %s |\n", attackLink(r.Tactic))
	for _, t := range r.Techniques {
		if t.Sub.ID != "" {
			fmt.Fprintf(&b, "| Technique | %s: %s |\n", attackLink(t.ATTACK), attackLink(t.Sub))
		} else {
			fmt.Fprintf(&b, "| Technique | %s |\n", attackLink(t.ATTACK))
		}
	}
	if s := r.Sequence; s != nil {
		if s.Distinct > 0 {
			fmt.Fprintf(&b, "| Sequence | %d different programs within %s, in one process tree |\n", s.Distinct, s.Within)
		} else {
			fmt.Fprintf(&b, "| Sequence | %d steps within %s, in one process tree |\n", len(s.Steps), s.Within)
		}
	}
	fmt.Fprintf(&b, "| Importance | %s |\n", r.Importance)
	fmt.Fprintf(&b, "| Version | %d |\n", r.Version)
	if len(r.Supersedes) > 0 {
		links := make([]string, len(r.Supersedes))
		for i, name := range r.Supersedes {
			links[i] = fmt.Sprintf("[%s](%s.md)", name, name)
		}
		fmt.Fprintf(&b, "| Supersedes | %s: an exec this recipe matches is reported here instead |\n", strings.Join(links, ", "))
	}
	if !r.Enabled {
		b.WriteString("| Enabled | no: turn it on with a file of your own |\n")
	}
	fmt.Fprintf(&b, "\n## How the detection works\n\n%s\n\n", d.Analysis)
	fmt.Fprintf(&b, "## What it means for a CI/CD pipeline\n\n%s\n\n", d.Pipeline)
	b.WriteString("## Recommended actions\n\n")
	for _, a := range d.Actions {
		fmt.Fprintf(&b, "- %s\n", a)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// sourceFile returns the file part of a file:line source.
func sourceFile(source string) string {
	file, _, _ := strings.Cut(source, ":")
	return "recipe/catalog/" + strings.TrimPrefix(file, BuiltinRuleset+"/")
}

// WritePages writes the page of each recipe to dir/NAME.md, and removes
// the .md files of dir that no recipe has any more.
func WritePages(dir string, recipes []*Recipe) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("create %s: %w", dir, err)
	}
	keep := make(map[string]bool, len(recipes))
	for _, r := range recipes {
		var b bytes.Buffer
		if err := WritePage(&b, r); err != nil {
			return err
		}
		name := r.Name + ".md"
		keep[name] = true
		if err := os.WriteFile(filepath.Join(dir, name), b.Bytes(), 0o644); err != nil {
			return fmt.Errorf("write page: %w", err)
		}
	}
	old, err := filepath.Glob(filepath.Join(dir, "*.md"))
	if err != nil {
		return err
	}
	for _, f := range old {
		if !keep[filepath.Base(f)] {
			if err := os.Remove(f); err != nil {
				return fmt.Errorf("remove stale page: %w", err)
			}
		}
	}
	return nil
}
