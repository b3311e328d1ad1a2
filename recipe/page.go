package recipe

import (
	"fmt"
	"io"
	"strings"
)

// attackURL returns the ATT&CK page of a tactic or technique id.
func attackURL(id string) string {
	if strings.HasPrefix(id, "TA") {
		return "https://attack.mitre.org/tactics/" + id + "/"
	}
	return "https://attack.mitre.org/techniques/" + strings.ReplaceAll(id, ".", "/") + "/"
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
	fmt.Fprintf(&b, "| Tactic | [%s (%s)](%s) |\n", r.Tactic.Name, r.Tactic.ID, attackURL(r.Tactic.ID))
	fmt.Fprintf(&b, "| Technique | [%s (%s)](%s) |\n", r.Technique.Name, r.Technique.ID, attackURL(r.Technique.ID))
	fmt.Fprintf(&b, "| Importance | %s |\n", r.Importance)
	fmt.Fprintf(&b, "| Version | %d |\n", r.Version)
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
