package report

import (
	"fmt"
	"io"
	"slices"
)

// Choosing a format: by its name on the command line, the file each goes to
// by default, and writing the report in it.

// Format is a report's format.
type Format string

// The formats a report is written in.
const (
	Markdown Format = "markdown"
	JSON     Format = "json"
	JUnit    Format = "junit"
	Text     Format = "text"
)

// Formats lists every format, for help texts and errors.
func Formats() []Format { return []Format{Markdown, JSON, JUnit, Text} }

// ParseFormat returns the format s names.
func ParseFormat(s string) (Format, error) {
	if f := Format(s); slices.Contains(Formats(), f) {
		return f, nil
	}
	return "", fmt.Errorf("unknown report format %q, want markdown, json, junit or text", s)
}

// DefaultPath is where a report of format f goes when its path is not
// given.
func (f Format) DefaultPath() string {
	switch f {
	case Markdown:
		return "vigil-report.md"
	case JUnit:
		return "vigil-report.xml"
	case Text:
		return "vigil-report.txt"
	}
	return "vigil-report.json"
}

// Write writes the report in format f.
func (r *Report) Write(w io.Writer, f Format) error {
	switch f {
	case Markdown:
		return r.WriteMarkdown(w)
	case JUnit:
		return r.WriteJUnit(w)
	case Text:
		return r.WriteText(w)
	case JSON:
		return r.WriteJSON(w)
	}
	return fmt.Errorf("unknown report format %q", f)
}
