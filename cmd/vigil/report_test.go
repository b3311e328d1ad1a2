package main

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/vigil-otel/vigil/recipe"
	"github.com/vigil-otel/vigil/report"
)

// readReportFile reads a JSON report, or JSON lines, that vigil wrote.
func readReportFile(t *testing.T, path string) *report.Report {
	t.Helper()
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	rep, err := report.Read(f)
	require.NoError(t, err)
	return rep
}

// junitFailures returns the failures of a JUnit XML file by test case.
func junitFailures(t *testing.T, path string) map[string]string {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	var doc struct {
		Suites []struct {
			Cases []struct {
				Name    string `xml:"name,attr"`
				Failure *struct {
					Text string `xml:",chardata"`
				} `xml:"failure"`
			} `xml:"testcase"`
		} `xml:"testsuite"`
	}
	require.NoError(t, xml.Unmarshal(b, &doc), "%s", b)
	failures := map[string]string{}
	for _, s := range doc.Suites {
		for _, c := range s.Cases {
			if c.Failure != nil {
				failures[c.Name] = c.Failure.Text
			}
		}
	}
	return failures
}

// TestRunWritesReports runs a command the way a GitHub Actions step does:
// its Markdown summary is added to the step's summary file, and the JUnit
// and JSON reports say what ran, in which step.
func TestRunWritesReports(t *testing.T) {
	vigil := buildVigil(t)
	dir := t.TempDir()
	summary := filepath.Join(dir, "step_summary.md")
	require.NoError(t, os.WriteFile(summary, []byte("## Tests\n\nall passed\n"), 0o644))
	junit, jsonReport := filepath.Join(dir, "vigil.xml"), filepath.Join(dir, "vigil.json")

	cmd := exec.Command(vigil, "run", "--report", "junit:"+junit, "--report", "json:"+jsonReport,
		"--", "sh", "-c", "zip -q "+filepath.Join(dir, "x.zip")+" /etc/hostname")
	cmd.Env = append(os.Environ(), "GITHUB_ACTIONS=true", "GITHUB_JOB=test", "GITHUB_ACTION=__run_2",
		"GITHUB_STEP_SUMMARY="+summary, "SUDO_UID=65534", "SUDO_GID=65533")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	require.NoError(t, cmd.Run(), "stderr: %s", stderr.String())

	md, err := os.ReadFile(summary)
	require.NoError(t, err)
	require.True(t, strings.HasPrefix(string(md), "## Tests\n\nall passed\n### vigil: 1 detection(s) in <code>sh -c \"zip -q "), "appended to what the job wrote: %s", md)
	require.Contains(t, string(md), "| low | ")
	require.Contains(t, string(md), "test / &#95;&#95;run_2", "the step that ran it")
	require.Contains(t, string(md), "exit status 0")

	// Run with sudo, the reports are the user's, not root's.
	info, err := os.Stat(junit)
	require.NoError(t, err)
	require.Equal(t, uint32(65534), info.Sys().(*syscall.Stat_t).Uid)
	require.Equal(t, uint32(65533), info.Sys().(*syscall.Stat_t).Gid)

	failures := junitFailures(t, junit)
	require.Len(t, failures, 1)
	require.Contains(t, failures["exec_example"], "zip -q "+filepath.Join(dir, "x.zip"))
	require.Contains(t, failures["exec_example"], "step: test / __run_2")

	rep := readReportFile(t, jsonReport)
	require.Equal(t, uint64(1), rep.Total)
	require.Equal(t, "exec_example", rep.Detections[0].Recipe)
	require.Equal(t, "__run_2", rep.Detections[0].Step)
	// The chain stops below vigil: what started vigil is not the job's.
	require.Len(t, rep.Detections[0].Ancestors, 1)
	require.Regexp(t, `^\d+ sh -c "zip -q `, rep.Detections[0].Ancestors[0])
	require.Equal(t, 0, *rep.ExitCode)
	require.NotNil(t, rep.Execs)
	require.GreaterOrEqual(t, *rep.Execs, uint64(2), "sh and zip")
	require.Zero(t, rep.Lost.Total)

	// --summary - turns the step summary off; a clean run says so.
	require.NoError(t, os.WriteFile(summary, nil, 0o644))
	cmd = exec.Command(vigil, "run", "--summary", "-", "--report", "markdown:"+filepath.Join(dir, "clean.md"), "--", "true")
	cmd.Env = append(os.Environ(), "GITHUB_STEP_SUMMARY="+summary)
	require.NoError(t, cmd.Run())
	md, err = os.ReadFile(summary)
	require.NoError(t, err)
	require.Empty(t, md)
	clean, err := os.ReadFile(filepath.Join(dir, "clean.md"))
	require.NoError(t, err)
	require.True(t, strings.HasPrefix(string(clean), "### vigil: no detections in <code>true</code>\n"), "%s", clean)

	out, err := exec.Command(vigil, "run", "--report", "pdf", "--", "true").CombinedOutput()
	require.Equal(t, exitVigilFailed, exitStatus(t, err))
	require.Contains(t, string(out), `--report pdf: unknown report format "pdf", want markdown, json, junit or text`)
}

// TestReportAfterTheFact makes reports from what a run left: its JSON
// lines, and its recording, whose events go through the recipes again.
func TestReportAfterTheFact(t *testing.T) {
	vigil := buildVigil(t)
	dir := t.TempDir()
	jsonl, rec := filepath.Join(dir, "out.jsonl"), filepath.Join(dir, "events.jsonl")
	out, err := exec.Command(vigil, "run", "--jsonl", jsonl, "--record", rec, "--",
		"sh", "-c", "zip -q "+filepath.Join(dir, "x.zip")+" /etc/hostname; zip -q "+filepath.Join(dir, "y.zip")+" /etc/hostname").CombinedOutput()
	require.NoError(t, err, "%s", out)

	for _, file := range []string{jsonl, rec} {
		junit := filepath.Join(dir, filepath.Base(file)+".xml")
		out, err := exec.Command(vigil, "report", file, "--format", "junit", "-o", junit).CombinedOutput()
		require.NoError(t, err, "%s", out)
		failures := junitFailures(t, junit)
		require.Len(t, failures, 1, file)
		require.Contains(t, failures["exec_example"], "y.zip", file)

		var stdout, stderr bytes.Buffer
		cmd := exec.Command(vigil, "report", file, "--fail-on", "low")
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		require.Equal(t, exitFailOn, exitStatus(t, cmd.Run()), file)
		require.True(t, strings.HasPrefix(stdout.String(), "vigil: 2 detection(s) on the machine (2 low)\n"), stdout.String())
		require.Contains(t, stderr.String(), "vigil: --fail-on low: 2 detection(s) at low or above: exec_example 2\n")

		require.NoError(t, exec.Command(vigil, "report", file, "--fail-on", "medium").Run(), "nothing at medium")
	}

	// The recording knows the execs; the JSON lines only the detections.
	out, err = exec.Command(vigil, "report", rec, "--format", "json", "-o", filepath.Join(dir, "r.json")).CombinedOutput()
	require.NoError(t, err, "%s", out)
	rep := readReportFile(t, filepath.Join(dir, "r.json"))
	require.Equal(t, uint64(2), rep.Total)
	require.GreaterOrEqual(t, *rep.Execs, uint64(3))

	// A file that is neither says where.
	bad := filepath.Join(dir, "bad.jsonl")
	require.NoError(t, os.WriteFile(bad, []byte("{\"event_name\":\"other\"}\nnot json\n"), 0o644))
	out, err = exec.Command(vigil, "report", bad).CombinedOutput()
	require.Equal(t, 1, exitStatus(t, err))
	require.Contains(t, string(out), bad+": line 2: not JSON")
}

// TestDetachedDaemon runs vigil as a CI system's first and last steps do:
// started in the background, it watches the whole machine from the moment
// --detach returns, and vigil stop has it flush and write its reports.
func TestDetachedDaemon(t *testing.T) {
	vigil := buildVigil(t)
	dir := t.TempDir()
	pidFile, jsonl, jsonReport := filepath.Join(dir, "vigil.pid"), filepath.Join(dir, "out.jsonl"), filepath.Join(dir, "report.json")

	out, err := exec.Command(vigil, "run", "--detach", "--pid-file", pidFile, "--jsonl", jsonl,
		"--report", "json:"+jsonReport, "--fail-on", "high").CombinedOutput()
	require.NoError(t, err, "%s", out)
	require.Contains(t, string(out), "vigil: watching the machine as pid ")
	b, err := os.ReadFile(pidFile)
	require.NoError(t, err, "the pid file is there when --detach returns")
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	require.NoError(t, err)
	t.Cleanup(func() {
		if runsWith(pid, pidFile) {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
	})

	// One vigil per pid file.
	out, err = exec.Command(vigil, "run", "--detach", "--pid-file", pidFile).CombinedOutput()
	require.Equal(t, 1, exitStatus(t, err))
	require.Contains(t, string(out), fmt.Sprintf("vigil already runs as pid %d with the pid file %s", pid, pidFile))

	// A reload is asked of the vigil of the pid file, after the same checks.
	out, err = exec.Command(vigil, "reload", "--pid-file", pidFile).CombinedOutput()
	require.NoError(t, err, "%s", out)
	require.Contains(t, string(out), fmt.Sprintf("vigil: pid %d reloads its recipes", pid))

	// A process of another step, not vigil's child: the machine is watched.
	require.NoError(t, exec.Command("sh", "-c", "zip -q "+filepath.Join(dir, "x.zip")+" /etc/hostname").Run())
	require.Eventually(t, func() bool {
		b, _ := os.ReadFile(jsonl)
		return bytes.Contains(b, []byte("x.zip"))
	}, 10*time.Second, 50*time.Millisecond, "the detection is written as it is made")

	out, err = exec.Command(vigil, "stop", "--pid-file", pidFile).CombinedOutput()
	require.NoError(t, err, "%s", out)
	require.NoFileExists(t, pidFile, "removed by vigil at its end")
	rep := readReportFile(t, jsonReport)
	require.GreaterOrEqual(t, rep.Total, uint64(1))
	require.Equal(t, recipe.High, rep.Policy.FailOn)
	// The whole machine is watched, other tests' programs too: the verdict
	// follows what the report holds.
	high := slices.ContainsFunc(rep.Recipes, func(c report.RecipeCount) bool { return c.Importance >= recipe.High })
	require.Equal(t, high, rep.Policy.Violated)
	require.Nil(t, rep.ExitCode, "the machine, not a command")
	log, err := os.ReadFile(filepath.Join(dir, "vigil.log"))
	require.NoError(t, err)
	require.Contains(t, string(log), "vigil: events ", "its summary, in its log")

	// Stopping it again says it is not running.
	require.NoError(t, os.WriteFile(pidFile, []byte(strconv.Itoa(pid)+"\n"), 0o644))
	out, err = exec.Command(vigil, "stop", "--pid-file", pidFile).CombinedOutput()
	require.Equal(t, 1, exitStatus(t, err))
	require.Contains(t, string(out), "is not running: it ended on its own")

	// A pid file naming another process is not obeyed.
	sleep := exec.Command("sleep", "30")
	require.NoError(t, sleep.Start())
	t.Cleanup(func() { _ = sleep.Process.Kill(); _ = sleep.Wait() })
	require.NoError(t, os.WriteFile(pidFile, []byte(strconv.Itoa(sleep.Process.Pid)+"\n"), 0o644))
	out, err = exec.Command(vigil, "stop", "--pid-file", pidFile).CombinedOutput()
	require.Equal(t, 1, exitStatus(t, err))
	require.Contains(t, string(out), "is not the vigil that wrote it")

	// A vigil that cannot start says why, from its log: its health
	// endpoint's address is taken, which no check of its flags can tell.
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer taken.Close()
	out, err = exec.Command(vigil, "run", "--detach", "--pid-file", filepath.Join(dir, "bad.pid"), "--health-addr", taken.Addr().String()).CombinedOutput()
	require.NotEqual(t, 0, exitStatus(t, err))
	require.Contains(t, string(out), "vigil did not start watching; "+filepath.Join(dir, "bad.log")+" says:")
	require.Contains(t, string(out), "address already in use")

	out, err = exec.Command(vigil, "run", "--detach").CombinedOutput()
	require.Equal(t, 1, exitStatus(t, err))
	require.Contains(t, string(out), "--detach needs --pid-file")
}

// TestSystemdNotifications runs vigil as systemd's Type=notify service
// manager sees it, through a real notification socket: READY=1 once it
// watches (an exec right after is detected), RELOADING=1 then READY=1 on
// SIGHUP, STOPPING=1 on SIGTERM.
func TestSystemdNotifications(t *testing.T) {
	vigil := buildVigil(t)
	dir := t.TempDir()
	sock, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: filepath.Join(dir, "notify"), Net: "unixgram"})
	require.NoError(t, err)
	defer sock.Close()
	next := func() string {
		t.Helper()
		require.NoError(t, sock.SetReadDeadline(time.Now().Add(30*time.Second)))
		buf := make([]byte, 4096)
		n, err := sock.Read(buf)
		require.NoError(t, err)
		return string(buf[:n])
	}

	jsonl := filepath.Join(dir, "out.jsonl")
	cmd := exec.Command(vigil, "run", "--jsonl", jsonl)
	cmd.Env = append(os.Environ(), "NOTIFY_SOCKET="+filepath.Join(dir, "notify"))
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	require.NoError(t, cmd.Start())
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })

	require.Equal(t, "READY=1\nSTATUS=watching", next())
	archive := filepath.Join(dir, "x.zip")
	require.NoError(t, exec.Command("zip", "-q", archive, "/etc/hostname").Run())

	require.NoError(t, cmd.Process.Signal(syscall.SIGHUP))
	require.Regexp(t, `^RELOADING=1\nMONOTONIC_USEC=\d+$`, next())
	require.Equal(t, "READY=1", next())

	require.NoError(t, cmd.Process.Signal(syscall.SIGTERM))
	require.Equal(t, "STOPPING=1", next())
	require.NoError(t, cmd.Wait(), "stderr: %s", stderr.String())
	b, err := os.ReadFile(jsonl)
	require.NoError(t, err)
	require.Contains(t, string(b), archive, "the exec right after READY=1 was seen")
}

// TestHealthEndpoint probes a running vigil as Kubernetes and Prometheus
// would: ready once it watches, alive, and its own metrics as Prometheus
// text, counting an exec the test runs; gone once vigil has stopped.
func TestHealthEndpoint(t *testing.T) {
	vigil := buildVigil(t)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := l.Addr().String()
	require.NoError(t, l.Close())

	cmd := exec.Command(vigil, "run", "--health-addr", addr, "--jsonl", filepath.Join(t.TempDir(), "out.jsonl"))
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	require.NoError(t, cmd.Start())
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })

	get := func(path string) (int, string) {
		resp, err := http.Get("http://" + addr + path)
		if err != nil {
			return 0, err.Error()
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	require.Eventually(t, func() bool {
		code, _ := get("/readyz")
		return code == http.StatusOK
	}, 30*time.Second, 50*time.Millisecond, "ready once it watches; stderr: %s", &stderr)
	code, body := get("/healthz")
	require.Equal(t, http.StatusOK, code)
	require.Equal(t, "ok\n", body)

	require.NoError(t, exec.Command("zip", "-q", filepath.Join(t.TempDir(), "x.zip"), "/etc/hostname").Run())
	require.Eventually(t, func() bool {
		_, body := get("/metrics")
		m := regexp.MustCompile(`(?m)^vigil_detections_total\{[^}]*security_rule_name="exec_example"[^}]*\} (\d+)`).FindStringSubmatch(body)
		return m != nil && m[1] != "0"
	}, 30*time.Second, 200*time.Millisecond, "the detection is counted")
	_, body = get("/metrics")
	require.Regexp(t, `(?m)^vigil_sensor_execs_total\{.*\} [1-9]`, body)
	require.Regexp(t, `(?m)^vigil_lost_total\{.*vigil_loss_stage="ring_buffer".*\} 0`, body)
	require.NotContains(t, body, "go_goroutines", "vigil's metrics only")

	require.NoError(t, cmd.Process.Signal(syscall.SIGTERM))
	require.NoError(t, cmd.Wait(), "stderr: %s", stderr.String())
	code, _ = get("/healthz")
	require.Zero(t, code, "the endpoint is gone with vigil")
}
