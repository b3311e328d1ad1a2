package describe

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/vigil-otel/vigil/event"
	"github.com/vigil-otel/vigil/redact"
)

// secretExec is an exec whose process put secrets in its arguments, its
// paths and its environment.
func secretExec() *event.Event {
	return &event.Event{
		Kind: event.KindExec, Time: time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC), PID: 42, PPID: 1,
		Filename: "/usr/bin/mysql", ExePath: "/usr/bin/mysql", Comm: "mysql",
		Args: []string{"mysql", "-phunter2", "-h", "db"},
		Cwd:  "/srv/https://deploy:s3cr3t@example.com",
		Env: map[string]string{
			"TRACEPARENT":       "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
			"TRACESTATE":        "vendor=opaque",
			"BUILD_URL":         "https://jenkins:tok3n@ci.example.com/job/1/",
			"GITHUB_REPOSITORY": "acme/app",
		},
	}
}

func TestEventIsRedactedForTheRecording(t *testing.T) {
	d, err := New(nil)
	require.NoError(t, err)
	ev := secretExec()
	before, err := json.Marshal(ev)
	require.NoError(t, err)

	got := d.Event(ev)
	require.Equal(t, []string{"mysql", "-p" + redact.Placeholder, "-h", "db"}, got.Args)
	require.Equal(t, "/srv/https://deploy:"+redact.Placeholder+"@example.com", got.Cwd)
	require.Equal(t, map[string]string{
		"TRACEPARENT":       "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
		"TRACESTATE":        "vendor=opaque",
		"BUILD_URL":         "https://jenkins:" + redact.Placeholder + "@ci.example.com/job/1/",
		"GITHUB_REPOSITORY": "acme/app",
	}, got.Env)
	require.Equal(t, "/usr/bin/mysql", got.ExePath, "nothing to redact, kept")
	require.Equal(t, ev.Time, got.Time)
	require.Equal(t, ev.PID, got.PID)

	after, err := json.Marshal(ev)
	require.NoError(t, err)
	require.JSONEq(t, string(before), string(after), "the event itself is left as it is")

	// A redacted event still reads back as an event: the recording
	// replays.
	line, err := json.Marshal(got)
	require.NoError(t, err)
	var back event.Event
	require.NoError(t, json.Unmarshal(line, &back))
	require.Equal(t, *got, back)
}

func TestEventKeepsWhatHasNoSecret(t *testing.T) {
	d, err := New(nil)
	require.NoError(t, err)
	fork := &event.Event{Kind: event.KindFork, PID: 43, PPID: 42}
	require.Same(t, fork, d.Event(fork), "a fork holds no string")

	ev := secretExec()
	ev.Env = map[string]string{"GITHUB_REPOSITORY": "acme/app"}
	got := d.Event(ev)
	got.Env["GITHUB_REPOSITORY"] = "changed"
	require.Equal(t, "changed", ev.Env["GITHUB_REPOSITORY"], "an environment with nothing to redact is shared, not copied")
}
