package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/vigil-otel/vigil/internal/otlptest"
	"github.com/vigil-otel/vigil/internal/vigiltest"
	"github.com/vigil-otel/vigil/semconv"
)

// buildVigil builds the real binary once per test run.
func buildVigil(t *testing.T) string {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("vigil run needs root")
	}
	// vigil reads OTEL_* from its environment, inherited from this test.
	otlptest.ClearOTelEnv(t)
	dir, err := os.MkdirTemp("", "vigil-bin-")
	require.NoError(t, err)
	t.Cleanup(func() { os.RemoveAll(dir) })
	require.NoError(t, os.Chmod(dir, 0o755))
	return vigiltest.Build(t, dir)
}

// readJSONL returns the objects of a JSON lines file.
func readJSONL(t *testing.T, path string) []map[string]any {
	t.Helper()
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	var objs []map[string]any
	for line := range strings.Lines(string(data)) {
		var obj map[string]any
		require.NoError(t, json.Unmarshal([]byte(line), &obj), "line %q", line)
		objs = append(objs, obj)
	}
	return objs
}

func exitStatus(t *testing.T, err error) int {
	t.Helper()
	if err == nil {
		return 0
	}
	var ee *exec.ExitError
	require.ErrorAs(t, err, &ee)
	return ee.ExitCode()
}

func TestRunCommand(t *testing.T) {
	vigil := buildVigil(t)
	zip, err := exec.LookPath("zip")
	require.NoError(t, err, "the zip package is needed")
	dir := t.TempDir()

	t.Run("jsonl holds the detection", func(t *testing.T) {
		out := filepath.Join(dir, "out.jsonl")
		archive := filepath.Join(dir, "x.zip")
		var stderr bytes.Buffer
		cmd := exec.Command(vigil, "run", "--jsonl", out, "--", "sh", "-c", "zip -q "+archive+" /etc/hostname")
		cmd.Stderr = &stderr
		require.NoError(t, cmd.Run(), "stderr: %s", stderr.String())
		require.FileExists(t, archive, "the command really ran")

		objs := readJSONL(t, out)
		require.Len(t, objs, 1)
		obj := objs[0]
		require.Equal(t, "exec_example", obj[string(semconv.SecurityRuleNameKey)])
		require.Equal(t, semconv.DetectionEventName, obj["event_name"])
		require.Equal(t, float64(9), obj["severity_number"])
		require.Equal(t, "INFO", obj["severity_text"])
		require.Equal(t, zip, obj[string(semconv.ProcessExecutablePathKey)])
		require.Equal(t, "zip", obj[string(semconv.ProcessExecutableNameKey)])
		require.Equal(t, []any{"zip", "-q", archive, "/etc/hostname"}, obj[string(semconv.ProcessCommandArgsKey)])
		require.Equal(t, float64(0), obj[string(semconv.ProcessUserIDKey)])
		require.NotZero(t, obj[string(semconv.ProcessPIDKey)])
		require.NotZero(t, obj[string(semconv.ProcessParentPIDKey)])
		require.Contains(t, stderr.String(), "detections 1,")
		require.Contains(t, stderr.String(), "lost 0 ")
		require.Contains(t, stderr.String(), "vigil: detections by importance: low 1; by recipe: exec_example 1\n")
		require.Regexp(t, `vigil: execs [2-9] in [0-9.]+m?s \([0-9.]+/s\)\n`, stderr.String(), "sh and zip, maybe more")
	})

	t.Run("a recording replays without root", func(t *testing.T) {
		rec := filepath.Join(dir, "events.jsonl")
		archive := filepath.Join(dir, "r.zip")
		require.NoError(t, exec.Command(vigil, "run", "--record", rec, "--", "sh", "-c", "zip -q "+archive+" /etc/hostname; true").Run())
		events := readJSONL(t, rec)
		require.GreaterOrEqual(t, len(events), 6, "fork, exec and exit of sh and zip")
		// A place the unprivileged replay can read.
		open, err := os.MkdirTemp("", "vigil-replay-")
		require.NoError(t, err)
		t.Cleanup(func() { os.RemoveAll(open) })
		require.NoError(t, os.Chmod(open, 0o755))
		data, err := os.ReadFile(rec)
		require.NoError(t, err)
		rec = filepath.Join(open, "events.jsonl")
		require.NoError(t, os.WriteFile(rec, data, 0o644))

		replay := exec.Command(vigil, "replay", "--jsonl", "-", rec)
		replay.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
		var stdout, stderr bytes.Buffer
		replay.Stdout, replay.Stderr = &stdout, &stderr
		require.NoError(t, replay.Run(), "stderr: %s", stderr.String())
		var obj map[string]any
		require.NoError(t, json.Unmarshal(stdout.Bytes(), &obj), stdout.String())
		require.Equal(t, "exec_example", obj[string(semconv.SecurityRuleNameKey)])
		require.Equal(t, []any{"zip", "-q", archive, "/etc/hostname"}, obj[string(semconv.ProcessCommandArgsKey)])
		require.Contains(t, stderr.String(), "detections 1,")
	})

	t.Run("exit status is the command's", func(t *testing.T) {
		require.Equal(t, 1, exitStatus(t, exec.Command(vigil, "run", "--", "false").Run()))
		require.Equal(t, 42, exitStatus(t, exec.Command(vigil, "run", "--", "sh", "-c", "exit 42").Run()))
		require.Equal(t, 128+int(syscall.SIGTERM), exitStatus(t, exec.Command(vigil, "run", "--", "sh", "-c", "kill -TERM $$").Run()))
		require.Equal(t, 127, exitStatus(t, exec.Command(vigil, "run", "--", filepath.Join(dir, "missing")).Run()))
	})

	t.Run("no detection, console stays quiet", func(t *testing.T) {
		var stderr bytes.Buffer
		cmd := exec.Command(vigil, "run", "--", "true")
		cmd.Stderr = &stderr
		require.NoError(t, cmd.Run())
		require.Contains(t, stderr.String(), "detections 0,")
		require.NotContains(t, stderr.String(), "exec_example")
	})
}

// TestPreloadReachesTheDetection: a program started with LD_PRELOAD
// pointing into /tmp fires ld_preload_injection, and the detection carries
// the variable as the sensor read it.
func TestPreloadReachesTheDetection(t *testing.T) {
	vigil := buildVigil(t)
	dir := t.TempDir()
	out := filepath.Join(dir, "out.jsonl")
	// A library that does not exist: the loader says so, loads nothing
	// and runs the program.
	const lib = "/tmp/vigil-test-absent/libhook.so"
	cmd := exec.Command(vigil, "run", "--jsonl", out, "--", "sh", "-c", "LD_PRELOAD="+lib+" /bin/true")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	require.NoError(t, cmd.Run(), "stderr: %s", stderr.String())

	var found bool
	key := string(semconv.ProcessEnvironmentVariable("LD_PRELOAD", "").Key)
	for _, obj := range readJSONL(t, out) {
		if obj[string(semconv.SecurityRuleNameKey)] == "ld_preload_injection" {
			found = true
			require.Equal(t, lib, obj[key])
			require.Equal(t, "true", obj[string(semconv.ProcessExecutableNameKey)])
		}
	}
	require.True(t, found, "stderr: %s", stderr.String())
}

func TestRunWatchesMachineUntilSignal(t *testing.T) {
	vigil := buildVigil(t)
	dir := t.TempDir()
	out := filepath.Join(dir, "out.jsonl")
	cmd := exec.Command(vigil, "run", "--jsonl", out)
	stderr, err := cmd.StderrPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	t.Cleanup(func() { _ = cmd.Process.Kill() })

	lines := bufio.NewScanner(stderr)
	require.True(t, lines.Scan(), "vigil says when it watches")
	require.Contains(t, lines.Text(), "watching the machine")

	zipCmd := exec.Command("zip", "-q", filepath.Join(dir, "m.zip"), "/etc/hostname")
	require.NoError(t, zipCmd.Run())
	time.Sleep(200 * time.Millisecond)
	require.NoError(t, cmd.Process.Signal(syscall.SIGTERM))
	var rest strings.Builder
	for lines.Scan() {
		rest.WriteString(lines.Text() + "\n")
	}
	require.NoError(t, cmd.Wait(), "exit 0 after SIGTERM; stderr: %s", rest.String())
	require.Contains(t, rest.String(), "lost 0 ")

	var found bool
	for _, obj := range readJSONL(t, out) {
		if obj[string(semconv.ProcessPIDKey)] == float64(zipCmd.Process.Pid) {
			found = true
			require.Equal(t, "exec_example", obj[string(semconv.SecurityRuleNameKey)])
		}
	}
	require.True(t, found, "the zip run outside vigil was seen")
}

func TestRunExplainsMissingRoot(t *testing.T) {
	vigil := buildVigil(t)
	cmd := exec.Command(vigil, "run", "--", "true")
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	out, err := cmd.CombinedOutput()
	require.Equal(t, exitVigilFailed, exitStatus(t, err))
	require.Equal(t, "vigil: loading the eBPF programs needs CAP_BPF and CAP_PERFMON (or CAP_SYS_ADMIN): run vigil as root, or grant it those capabilities (docs/install.md)\n", string(out))
}

// recipeFor writes a recipe that fires on programs named name.
func recipeFor(rname, name string) string {
	return `recipes:
  - name: ` + rname + `
    description: test recipe
    tactic: {id: TA0002, name: Execution}
    technique: {id: T1059, name: Command and Scripting Interpreter}
    importance: medium
    match: {executable: {name: ` + name + `}}
`
}

func TestRunReloadsRecipes(t *testing.T) {
	vigil := buildVigil(t)
	dir := t.TempDir()
	recipes := filepath.Join(dir, "recipes")
	require.NoError(t, os.Mkdir(recipes, 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(recipes, "first.yaml"), []byte(recipeFor("first_probe", "vigil-first")), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(recipes, "broken.yaml"), []byte("recipes: [\n"), 0o644))
	first := probe(t, dir, "vigil-first")
	second := probe(t, dir, "vigil-second")

	out := filepath.Join(dir, "out.jsonl")
	cmd := exec.Command(vigil, "run", "--recipes", recipes, "--jsonl", out)
	stderr, err := cmd.StderrPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	t.Cleanup(func() { _ = cmd.Process.Kill() })
	lines := make(chan string, 100)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			t.Log(sc.Text())
			lines <- sc.Text()
		}
		close(lines)
	}()
	waitLine := func(substr string) string {
		t.Helper()
		timeout := time.After(20 * time.Second)
		for {
			select {
			case l, ok := <-lines:
				require.True(t, ok, "vigil ended before saying %q", substr)
				if strings.Contains(l, substr) {
					return l
				}
			case <-timeout:
				t.Fatalf("vigil never said %q", substr)
			}
		}
	}
	require.Contains(t, waitLine("recipe error"), "broken.yaml:2:1: did not find expected node content")
	// The count of recipes says which reload is which: several file events
	// may come of one change.
	var loaded int
	started := waitLine("watching the machine")
	_, err = fmt.Sscanf(started[strings.Index(started, "recipes="):], "recipes=%d", &loaded)
	require.NoError(t, err)
	reloadedWith := func(recipes int) {
		t.Helper()
		waitLine(fmt.Sprintf("recipes reloaded\" recipes=%d errors=1", recipes))
	}

	runProbe := func(path string) int {
		c := exec.Command(path)
		require.NoError(t, c.Run())
		return c.Process.Pid
	}
	firstPID := runProbe(first)

	// A new file is picked up on its own; the broken one still is reported
	// and left out, the others keep working.
	require.NoError(t, os.WriteFile(filepath.Join(recipes, "second.yaml"), []byte(recipeFor("second_probe", "vigil-second")), 0o644))
	reloadedWith(loaded + 1)
	secondPID := runProbe(second)
	firstAgain := runProbe(first)

	// Recipes apply to the execs after their reload: the first recipe is
	// gone from disk, and SIGHUP reloads too.
	require.NoError(t, os.Remove(filepath.Join(recipes, "first.yaml")))
	reloadedWith(loaded)
	require.NoError(t, cmd.Process.Signal(syscall.SIGHUP))
	reloadedWith(loaded)
	firstGone := runProbe(first)

	time.Sleep(500 * time.Millisecond)
	require.NoError(t, cmd.Process.Signal(syscall.SIGINT))
	for range lines {
	}
	require.NoError(t, cmd.Wait())

	// Other built-in recipes rightly fire too (the probes run from /tmp);
	// only the test's own count here.
	fired := map[int]string{}
	for _, obj := range readJSONL(t, out) {
		if name := obj[string(semconv.SecurityRuleNameKey)].(string); strings.HasSuffix(name, "_probe") {
			fired[int(obj[string(semconv.ProcessPIDKey)].(float64))] = name
		}
	}
	require.Equal(t, "first_probe", fired[firstPID])
	require.Equal(t, "second_probe", fired[secondPID])
	require.Equal(t, "first_probe", fired[firstAgain])
	require.NotContains(t, fired, firstGone)
}

// probe copies /bin/true to dir/name.
func probe(t *testing.T, dir, name string) string {
	t.Helper()
	data, err := os.ReadFile("/bin/true")
	require.NoError(t, err)
	path := filepath.Join(dir, name)
	require.NoError(t, os.WriteFile(path, data, 0o755))
	return path
}
