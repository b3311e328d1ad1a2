package describe

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/vigil-otel/vigil/event"
	"github.com/vigil-otel/vigil/proctable"
)

// BenchmarkExec describes a compiler run in a GitHub Actions job: what a
// traced exec pays before its span starts.
func BenchmarkExec(b *testing.B) {
	d, err := New(nil)
	if err != nil {
		b.Fatal(err)
	}
	ev := &event.Event{Kind: event.KindExec, Time: time.Now(), PID: 4242, PPID: 4200, UID: 1001, EUID: 1001,
		Cwd: "/home/runner/work/app/app",
		Env: map[string]string{
			"TRACEPARENT":    "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
			"GITHUB_ACTIONS": "true", "GITHUB_WORKFLOW": "ci", "GITHUB_RUN_ID": "9876543210",
			"GITHUB_RUN_ATTEMPT": "1", "GITHUB_JOB": "test", "GITHUB_REPOSITORY": "acme/app",
			"GITHUB_SERVER_URL": "https://github.com", "GITHUB_SHA": "0123456789abcdef0123456789abcdef01234567",
		}}
	p := &proctable.Process{PID: 4242, PPID: 4200, Exe: "/usr/bin/gcc", Args: []string{"gcc", "-O2", "-c", "src/main.c", "-o", "obj/main.o"}}
	b.ReportAllocs()
	for b.Loop() {
		d.Exec(p, ev)
	}
}

// BenchmarkRecordEvent is what the recording (vigil run --record) pays per
// exec of a CI job, encoded as JSON: raw, as the sensor reported it, the
// baseline, against redacted (Describer.Event).
func BenchmarkRecordEvent(b *testing.B) {
	d, err := New(nil)
	if err != nil {
		b.Fatal(err)
	}
	ev := &event.Event{Kind: event.KindExec, Time: time.Now(), PID: 4242, PPID: 4200, UID: 1001, EUID: 1001,
		Filename: "/usr/bin/gcc", ExePath: "/usr/bin/gcc", Comm: "gcc", Cwd: "/home/runner/work/app/app",
		Args: []string{"gcc", "-O2", "-c", "src/main.c", "-o", "obj/main.o"},
		Env: map[string]string{
			"TRACEPARENT":    "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
			"GITHUB_ACTIONS": "true", "GITHUB_WORKFLOW": "ci", "GITHUB_RUN_ID": "9876543210",
			"GITHUB_RUN_ATTEMPT": "1", "GITHUB_JOB": "test", "GITHUB_REPOSITORY": "acme/app",
			"GITHUB_SERVER_URL": "https://github.com", "GITHUB_SHA": "0123456789abcdef0123456789abcdef01234567",
		}}
	for _, c := range []struct {
		name   string
		record func(*event.Event) *event.Event
	}{
		{"raw", func(ev *event.Event) *event.Event { return ev }},
		{"redacted", d.Event},
	} {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := json.Marshal(c.record(ev)); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
