// Package otelcoltest builds the project's OpenTelemetry Collector
// distribution (collector-config/builder.yaml) and runs it in tests.
package otelcoltest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// builderModule is a module that a build of the distribution downloads; a
// failed download of it says the Go module proxy is out of reach.
const builderModule = "go.opentelemetry.io/collector/cmd/builder@v0.148.0"

// readyLine is what the Collector logs once every component has started.
const readyLine = "Everything is ready"

// Build returns the path of the otelcol-vigil binary, built by
// collector-config/build.sh. The script keeps the binary in a cache keyed by
// the manifest and reuses it, so every test (and every test binary) may
// call Build: only the first call after a change of builder.yaml builds,
// the others take a fraction of a second. Concurrent calls wait for one
// another in the script.
//
// The test is skipped when the build fails because the Go module proxy
// cannot be reached; any other failure fails it.
func Build(t testing.TB) string {
	t.Helper()
	root, err := moduleRoot()
	if err != nil {
		t.Fatalf("otelcoltest: %v", err)
	}
	start := time.Now()
	var stdout, stderr bytes.Buffer
	cmd := exec.Command("bash", filepath.Join(root, "collector-config", "build.sh"))
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		if reason := proxyUnreachable(t); reason != "" {
			t.Skipf("otelcoltest: the Go module proxy is out of reach, so otelcol-vigil cannot be built (%s); build.sh said:\n%s", reason, stderr.String())
		}
		t.Fatalf("otelcoltest: collector-config/build.sh: %v\n%s", err, stderr.String())
	}
	bin := strings.TrimSpace(stdout.String())
	if i := strings.LastIndexByte(bin, '\n'); i >= 0 {
		bin = bin[i+1:]
	}
	if !filepath.IsAbs(bin) {
		t.Fatalf("otelcoltest: build.sh printed %q, not a path\n%s", stdout.String(), stderr.String())
	}
	if stderr.Len() > 0 { // the script only speaks when it builds or waits
		t.Logf("otelcoltest: otelcol-vigil ready in %s:\n%s", time.Since(start).Round(time.Second), lastLines(stderr.String(), 5))
	}
	return bin
}

// moduleRoot is the folder of the go.mod above the working directory (a
// test runs in its package's folder).
func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "collector-config", "build.sh")); err == nil {
			if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
				return dir, nil
			}
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no module root with collector-config/build.sh above the working directory")
		}
		dir = parent
	}
}

// proxyUnreachable downloads a small module into an empty module cache,
// which makes the go command ask the proxy, and returns why that failed,
// or "" when it worked.
func proxyUnreachable(t testing.TB) string {
	t.Helper()
	dir := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "go", "mod", "download", "-json", builderModule)
	cmd.Dir = dir
	// -modcacherw: the test's temporary folder must be removable.
	cmd.Env = append(os.Environ(), "GOMODCACHE="+filepath.Join(dir, "mod"), "GOFLAGS=-modcacherw")
	out, err := cmd.CombinedOutput()
	if err == nil {
		return ""
	}
	return fmt.Sprintf("go mod download %s: %v: %s", builderModule, err, lastLines(string(out), 3))
}

// lastLines returns at most n of the last lines of s.
func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// Collector is a running otelcol-vigil.
type Collector struct {
	cmd    *exec.Cmd
	stderr *logBuffer
	done   chan struct{} // closed when the process has exited
	err    error         // Wait's result, set before done is closed
	stop   sync.Once
}

// Start runs bin --config C for each of configs (the Collector merges them
// in order: maps merge, lists replace, so a later file can swap a
// pipeline's exporters), with env added to the test's environment. It
// returns once the Collector has started every component, and stops it when
// the test ends. A Collector that exits or is not ready within a minute
// fails the test with its log.
func Start(t testing.TB, bin string, env []string, configs ...string) *Collector {
	t.Helper()
	args := make([]string, 0, 1+2*len(configs))
	for _, c := range configs {
		args = append(args, "--config", c)
	}
	c := &Collector{
		cmd:    exec.Command(bin, args...),
		stderr: &logBuffer{ready: make(chan struct{})},
		done:   make(chan struct{}),
	}
	c.cmd.Env = append(os.Environ(), env...)
	c.cmd.Stdout = c.stderr
	c.cmd.Stderr = c.stderr
	if err := c.cmd.Start(); err != nil {
		t.Fatalf("otelcoltest: start %s: %v", bin, err)
	}
	go func() {
		c.err = c.cmd.Wait()
		close(c.done)
	}()
	t.Cleanup(func() {
		if err := c.Stop(); err != nil {
			t.Errorf("otelcoltest: %v\n%s", err, c.Log())
		}
	})
	select {
	case <-c.stderr.ready:
		return c
	case <-c.done:
		t.Fatalf("otelcoltest: the Collector exited before it was ready: %v\n%s", c.err, c.Log())
	case <-time.After(time.Minute):
		t.Fatalf("otelcoltest: the Collector was not ready after a minute\n%s", c.Log())
	}
	return nil
}

// Stop shuts the Collector down as a service manager would (SIGTERM), which
// makes it flush its processors and exporters, and waits for it to exit,
// killing it after 30 s. It returns an error if the Collector did not exit
// cleanly. Calling Stop again returns the first call's result.
func (c *Collector) Stop() error {
	var err error
	c.stop.Do(func() {
		select {
		case <-c.done:
			err = fmt.Errorf("the Collector had exited by itself: %v", c.err)
			return
		default:
		}
		_ = c.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-c.done:
			if c.err != nil {
				err = fmt.Errorf("the Collector's shutdown: %v", c.err)
			}
		case <-time.After(30 * time.Second):
			_ = c.cmd.Process.Kill()
			<-c.done
			err = errors.New("the Collector did not stop within 30 s of SIGTERM; killed")
		}
	})
	return err
}

// Kill ends the Collector with SIGKILL, as a crash or the kernel's OOM
// killer would: it flushes nothing and closes no file. It waits for the
// process to be gone. Stop after Kill returns nil; Kill after Stop does
// nothing.
func (c *Collector) Kill() error {
	var err error
	c.stop.Do(func() {
		if err = c.cmd.Process.Kill(); err != nil {
			err = fmt.Errorf("kill the Collector: %w", err)
			return
		}
		<-c.done
	})
	return err
}

// Log returns what the Collector has logged so far.
func (c *Collector) Log() string {
	return c.stderr.String()
}

// logBuffer keeps the Collector's output and closes ready once the line
// that says every component has started appears.
type logBuffer struct {
	mu      sync.Mutex
	buf     bytes.Buffer
	ready   chan struct{}
	isReady bool
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.buf.Write(p)
	if !b.isReady && bytes.Contains(b.buf.Bytes(), []byte(readyLine)) {
		b.isReady = true
		close(b.ready)
	}
	return len(p), nil
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
