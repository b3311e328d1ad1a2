package main

import (
	"bytes"
	"net"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestCollectorDownLeavesTheCommandsStatus: a monitor must never fail the
// job it watches because its telemetry backend is unwell. With nothing
// listening at the endpoint, the command's exit status stands and the
// summary counts what was not delivered.
func TestCollectorDownLeavesTheCommandsStatus(t *testing.T) {
	vigil := buildVigil(t)
	// A port that was free a moment ago: connections to it are refused.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	endpoint := "http://" + l.Addr().String()
	require.NoError(t, l.Close())
	t.Setenv("OTEL_EXPORTER_OTLP_TIMEOUT", "1000")

	for _, status := range []int{0, 3} {
		dir := t.TempDir()
		archive, jsonReport := filepath.Join(dir, "x.zip"), filepath.Join(dir, "report.json")
		var stderr bytes.Buffer
		cmd := exec.Command(vigil, "run", "--otlp-endpoint", endpoint, "--report", "json:"+jsonReport,
			"--", "sh", "-c", "zip -q "+archive+" /etc/hostname; exit "+strconv.Itoa(status))
		cmd.Stderr = &stderr
		err := cmd.Run()
		require.Equal(t, status, exitStatus(t, err), "stderr: %s", stderr.String())
		require.Contains(t, stderr.String(), "detections 1,")
		require.Contains(t, stderr.String(), "export failed 1,", "the undelivered detection is counted")
		require.Contains(t, stderr.String(), "telemetry not delivered at the end")
		require.NotContains(t, stderr.String(), "vigil: stop pipeline")
		// The report has the detection, and says it was not delivered.
		rep := readReportFile(t, jsonReport)
		require.Equal(t, uint64(1), rep.Total)
		require.Equal(t, uint64(1), rep.Lost.ByStage["export"])
		require.Equal(t, status, *rep.ExitCode)
	}
}

// TestFailOnDecidesOnlyWhenItShould: --fail-on turns a detection at or
// above its importance into exit status 3 when the command succeeded, and
// changes nothing else.
func TestFailOnDecidesOnlyWhenItShould(t *testing.T) {
	vigil := buildVigil(t)
	dir := t.TempDir()
	// exec_example (zip) is low.
	zip := "zip -q " + filepath.Join(dir, "x.zip") + " /etc/hostname"
	for _, tc := range []struct {
		name    string
		failOn  string
		script  string
		status  int
		decided bool
	}{
		{"at the importance", "low", zip, exitFailOn, true},
		{"below it", "high", zip, 0, false},
		{"no detection", "low", "true", 0, false},
		{"the command's failure wins", "low", zip + "; exit 7", 7, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var stderr bytes.Buffer
			cmd := exec.Command(vigil, "run", "--jsonl", filepath.Join(dir, "out.jsonl"), "--fail-on", tc.failOn, "--", "sh", "-c", tc.script)
			cmd.Stderr = &stderr
			require.Equal(t, tc.status, exitStatus(t, cmd.Run()), "stderr: %s", stderr.String())
			if tc.decided {
				require.Contains(t, stderr.String(), "vigil: --fail-on low: 1 detection(s) at low or above: exec_example 1\n")
			} else {
				require.NotContains(t, stderr.String(), "--fail-on")
			}
		})
	}

	var stderr bytes.Buffer
	cmd := exec.Command(vigil, "run", "--fail-on", "loud", "--", "true")
	cmd.Stderr = &stderr
	require.Equal(t, exitVigilFailed, exitStatus(t, cmd.Run()))
	require.Equal(t, "vigil: --fail-on loud: want one of low, medium, high, critical\n", stderr.String())
}
