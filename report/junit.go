package report

import (
	"encoding/xml"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/vigil-otel/vigil/redact"
)

// JUnit XML, as GitLab (artifacts:reports:junit), Jenkins' JUnit plugin
// and most CI servers read it.
type junitSuites struct {
	XMLName  xml.Name     `xml:"testsuites"`
	Name     string       `xml:"name,attr"`
	Tests    int          `xml:"tests,attr"`
	Failures int          `xml:"failures,attr"`
	Time     string       `xml:"time,attr,omitempty"`
	Suites   []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name       string          `xml:"name,attr"`
	Tests      int             `xml:"tests,attr"`
	Failures   int             `xml:"failures,attr"`
	Time       string          `xml:"time,attr,omitempty"`
	Timestamp  string          `xml:"timestamp,attr,omitempty"`
	Properties []junitProperty `xml:"properties>property,omitempty"`
	Cases      []junitCase     `xml:"testcase"`
}

type junitProperty struct {
	Name  string `xml:"name,attr"`
	Value string `xml:"value,attr"`
}

type junitCase struct {
	Name      string        `xml:"name,attr"`
	Classname string        `xml:"classname,attr"`
	Time      string        `xml:"time,attr"`
	Failure   *junitFailure `xml:"failure,omitempty"`
	SystemOut string        `xml:"system-out,omitempty"`
}

type junitFailure struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr"`
	Text    string `xml:",chardata"`
}

// WriteJUnit writes the report as JUnit XML: one test case per recipe
// (and importance) that fired, failed by its detections, whose failure
// lists each of them. With a --fail-on verdict, recipes below its
// importance pass and list their detections as output, so that the test
// view agrees with the job's status. A clean run is one passing case.
//
// Each failed case holds one <failure>, listing every detection: GitLab
// and Jenkins read only one failure of a case.
func (r *Report) WriteJUnit(w io.Writer) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	suite := junitSuite{Name: "vigil"}
	if !r.Start.IsZero() {
		suite.Timestamp = r.Start.UTC().Format(time.RFC3339)
		if !r.End.IsZero() {
			suite.Time = seconds(r.End.Sub(r.Start))
		}
	}
	if len(r.Command) > 0 {
		suite.Properties = append(suite.Properties, junitProperty{Name: "vigil_command", Value: redact.QuoteArgs(r.Command)})
	}
	if r.TraceID != "" {
		suite.Properties = append(suite.Properties, junitProperty{Name: "vigil_trace_id", Value: r.TraceID})
	}
	if r.Execs != nil {
		suite.Properties = append(suite.Properties, junitProperty{Name: "vigil_execs", Value: fmt.Sprint(*r.Execs)})
	}
	if r.Lost != nil {
		suite.Properties = append(suite.Properties, junitProperty{Name: "vigil_lost", Value: fmt.Sprint(r.Lost.Total)})
	}

	for _, c := range r.sortedRecipes() {
		var text strings.Builder
		shown := 0
		for i := range r.Detections {
			d := &r.Detections[i]
			if d.Recipe == c.Recipe && d.Importance == c.Importance {
				writeJUnitDetection(&text, d)
				shown++
			}
		}
		if missing := c.Count - uint64(shown); missing > 0 {
			fmt.Fprintf(&text, "%d more not listed: the report's bound was reached.\n", missing)
		}
		tc := junitCase{Name: c.Recipe, Classname: "vigil." + classOf(c.Tactic), Time: "0"}
		if r.Policy != nil && c.Importance < r.Policy.FailOn {
			tc.SystemOut = fmt.Sprintf("%d detection(s) of importance %s, below --fail-on %s:\n\n%s", c.Count, c.Importance, r.Policy.FailOn, text.String())
		} else {
			tc.Failure = &junitFailure{
				Message: fmt.Sprintf("%d detection(s) of importance %s: %s", c.Count, c.Importance, c.Description),
				Type:    c.Importance.String(),
				Text:    text.String(),
			}
			suite.Failures++
		}
		suite.Cases = append(suite.Cases, tc)
	}
	if len(suite.Cases) == 0 {
		suite.Cases = append(suite.Cases, junitCase{Name: "no detections", Classname: "vigil", Time: "0"})
	}
	suite.Tests = len(suite.Cases)
	doc := junitSuites{Name: "vigil", Tests: suite.Tests, Failures: suite.Failures, Time: suite.Time, Suites: []junitSuite{suite}}
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return fmt.Errorf("write JUnit XML: %w", err)
	}
	_, err := io.WriteString(w, "\n")
	return err
}

// writeJUnitDetection writes one detection as a paragraph of a failure.
func writeJUnitDetection(b *strings.Builder, d *Detection) {
	fmt.Fprintf(b, "%s pid %d: %s\n", d.Time.UTC().Format(time.RFC3339Nano), d.PID, commandLine(d))
	if where := d.Where(); where != "" {
		fmt.Fprintf(b, "  step: %s\n", oneLine(where))
	}
	for _, s := range d.Steps {
		fmt.Fprintf(b, "  after %s\n", oneLine(s))
	}
	for _, a := range d.Ancestors {
		fmt.Fprintf(b, "  under %s\n", oneLine(a))
	}
	if d.TraceID != "" {
		fmt.Fprintf(b, "  trace %s span %s\n", d.TraceID, d.SpanID)
	}
	if d.Reference != "" {
		fmt.Fprintf(b, "  see %s\n", oneLine(d.Reference))
	}
	b.WriteByte('\n')
}

// classOf turns an ATT&CK tactic ("TA0002 Execution") into a class name
// part ("Execution"), so that test views group the recipes by tactic.
func classOf(tactic string) string {
	if _, name, ok := strings.Cut(tactic, " "); ok {
		tactic = name
	}
	if tactic == "" {
		return "detection"
	}
	return strings.ReplaceAll(tactic, " ", "")
}

// seconds writes d as JUnit's seconds with milliseconds.
func seconds(d time.Duration) string { return fmt.Sprintf("%.3f", d.Seconds()) }
