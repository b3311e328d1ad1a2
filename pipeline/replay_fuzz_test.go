package pipeline

import (
	"bytes"
	"context"
	"encoding/json"
	"regexp"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/vigil-otel/vigil/event"
	"github.com/vigil-otel/vigil/exporter"
	"github.com/vigil-otel/vigil/recipe"
	"github.com/vigil-otel/vigil/redact"
)

// vigil replay reads a recording anyone may have written: the file, then
// every stage downstream of the sensor, must hold whatever it says.

// recordings are recordings as vigil run --record writes them, and some
// that it never would.
var recordings = []string{
	`{"kind":"exec","time":"2026-11-27T10:00:00Z","pid":10,"ppid":1,"exe_path":"/usr/bin/dash","args":["sh","-c","zip -q a.zip b"],"argc":3,"env":{"TRACEPARENT":"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"}}
{"kind":"fork","time":"2026-11-27T10:00:01Z","pid":11,"ppid":10}
{"kind":"exec","time":"2026-11-27T10:00:01.5Z","pid":11,"ppid":10,"exe_path":"/usr/bin/zip","args":["zip","-P","hunter2","a.zip"],"argc":4,"uid":1000,"euid":1000,"cwd":"/home/u","file":{"nlink":1,"uid":0,"gid":0}}
{"kind":"exit","time":"2026-11-27T10:00:02Z","pid":11,"ppid":10,"exit_status":256}
`,
	`{"kind":"exec","time":"2026-11-27T10:00:00Z","pid":10,"ppid":1,"exe_path":"/usr/bin/dash","args":["sh","install.sh"],"argc":2}
{"kind":"fork","time":"2026-11-27T10:00:01Z","pid":11,"ppid":10}
{"kind":"exec","time":"2026-11-27T10:00:01Z","pid":11,"ppid":10,"exe_path":"/usr/bin/cp","args":["cp","/bin/true","/tmp/payload"],"argc":3}
{"kind":"exit","time":"2026-11-27T10:00:01Z","pid":11,"ppid":10}
{"kind":"fork","time":"2026-11-27T10:00:02Z","pid":12,"ppid":10}
{"kind":"exec","time":"2026-11-27T10:00:02Z","pid":12,"ppid":10,"exe_path":"/usr/bin/chmod","args":["chmod","+x","/tmp/payload"],"argc":3}
{"kind":"fork","time":"2026-11-27T10:00:03Z","pid":13,"ppid":10}
{"kind":"exec","time":"2026-11-27T10:00:03Z","pid":13,"ppid":10,"exe_path":"/tmp/payload","args":["/tmp/payload"],"argc":1,"file":{"nlink":0,"memfd":true}}
`,
	"{\"kind\":\"exec\"}\n\n\r\n{\"kind\":\"exec\",\"pid\":1,\"ppid\":1,\"args\":[\"\\u001b[2J\",\"\\ud800\"],\"exe_path\":\"zip\"}\n",
	`{"kind":"exit","pid":4294967295,"ppid":4294967295,"time":"0001-01-01T00:00:00Z"}`,
	`{"kind":"birth"}`,
	"{\"kind\":\"exec\",\"pid\":2}\nnot json\n{\"kind\":\"exec\"}\n",
}

// FuzzReadRecording: every line is an event or stops the reading with an
// error naming it, and each event read writes back as the same line.
func FuzzReadRecording(f *testing.F) {
	for _, r := range recordings {
		f.Add([]byte(r))
	}
	lineError := regexp.MustCompile(`^(recording line [1-9][0-9]*: |read recording: )`)
	f.Fuzz(func(t *testing.T, data []byte) {
		var events []*event.Event
		n, err := readRecording(context.Background(), bytes.NewReader(data), func(ev *event.Event) { events = append(events, ev) })
		require.Equal(t, uint64(len(events)), n)
		if err != nil {
			require.Regexp(t, lineError, err.Error())
		}
		for _, ev := range events {
			line, err := json.Marshal(ev)
			require.NoError(t, err)
			var back []*event.Event
			_, err = readRecording(context.Background(), bytes.NewReader(line), func(ev *event.Event) { back = append(back, ev) })
			require.NoError(t, err, "%s", line)
			require.Len(t, back, 1)
			again, err := json.Marshal(back[0])
			require.NoError(t, err)
			require.Equal(t, string(line), string(again))
		}
	})
}

// FuzzReplay replays any recording through the process table, recipes of
// every kind (a plain one, a sequence with a capture, a CEL expression)
// and the JSON lines and console outputs: each detection is one line of
// each, and the events counted are those read.
func FuzzReplay(f *testing.F) {
	for _, r := range recordings {
		f.Add([]byte(r))
	}
	builtin, errs := recipe.Builtin()
	require.Empty(f, errs)
	recipes, errs := recipe.Parse("fuzz.yaml", []byte("recipes:\n"+placedAndRunRecipe+`  - name: cel_args
    description: An argument that asks for a password
    tactic: {id: TA0002, name: Execution}
    technique: {id: T1059, name: Command and Scripting Interpreter}
    importance: medium
    match:
      cel: 'args.exists(a, a.matches("^-(P|-password)")) || ancestors.exists(e, e.endsWith("/dash")) && env["TRACEPARENT"] != ""'
`), "fuzz")
	require.Empty(f, errs)
	for _, r := range builtin {
		if r.Name == "exec_example" {
			recipes = append(recipes, r)
		}
	}
	redactor, err := redact.New(redact.Default()) // compiled once: it keeps no state
	require.NoError(f, err)
	f.Fuzz(func(t *testing.T, data []byte) {
		wantEvents, wantErr := readRecording(context.Background(), bytes.NewReader(data), func(*event.Event) {})
		var jsonl, console bytes.Buffer
		cfg := Config{Recipes: recipes, Redactor: redactor, Exporter: exporter.Config{JSONL: &jsonl, Console: &console}}
		sum, err := Replay(context.Background(), cfg, bytes.NewReader(data))
		if wantErr != nil {
			require.ErrorContains(t, err, wantErr.Error())
		} else {
			require.NoError(t, err)
		}
		require.Equal(t, wantEvents, sum.Sensor.Events)
		lines := bytes.Split(bytes.TrimSuffix(jsonl.Bytes(), []byte("\n")), []byte("\n"))
		if jsonl.Len() == 0 {
			lines = nil
		}
		require.Len(t, lines, int(sum.Detections))
		for _, line := range lines {
			require.True(t, json.Valid(line), "%q", line)
		}
		require.Equal(t, int(sum.Detections), bytes.Count(console.Bytes(), []byte("\n")))
	})
}
