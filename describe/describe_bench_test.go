package describe

import (
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
