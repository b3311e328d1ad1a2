package pipeline

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/vigil-otel/vigil/exporter"
	"github.com/vigil-otel/vigil/internal/otlptest"
	"github.com/vigil-otel/vigil/recipe"
	"github.com/vigil-otel/vigil/semconv"
	"github.com/vigil-otel/vigil/sensor"
	"github.com/vigil-otel/vigil/spans"
)

// copyProgram puts a copy of a system binary under name in dir.
func copyProgram(t *testing.T, src, dir, name string) string {
	t.Helper()
	data, err := os.ReadFile(src)
	require.NoError(t, err)
	path := filepath.Join(dir, name)
	require.NoError(t, os.WriteFile(path, data, 0o755))
	return path
}

// watched runs every stage for real over this test process's descendants:
// the eBPF sensor, the process table, exec_example alone (the programs the
// tests copy live under /tmp, where other recipes rightly fire too) and the
// OTLP/gRPC exporter, into a receiver built on the Collector's pdata
// packages. stop ends it and returns its summary.
func watched(t *testing.T, mode spans.Mode) (rcv *otlptest.Receiver, stop func() Summary) {
	t.Helper()
	return watchedWith(t, mode, builtinRecipe(t, "exec_example"))
}

// watchedWith is watched with the given recipes.
func watchedWith(t *testing.T, mode spans.Mode, recipes []*recipe.Recipe) (rcv *otlptest.Receiver, stop func() Summary) {
	t.Helper()
	return watchedConfig(t, mode, Config{Recipes: recipes})
}

// watchedConfig is watched with the recipes and the process table cfg
// gives; it sets the sensor and the exporter.
func watchedConfig(t *testing.T, mode spans.Mode, cfg Config) (rcv *otlptest.Receiver, stop func() Summary) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("loading eBPF programs needs root")
	}
	rcv = otlptest.Start(t)
	cfg.Sensor = sensor.Config{Follow: uint32(os.Getpid())}
	cfg.Exporter = exporter.Config{OTLP: true, OTLPSettings: exporter.OTLPSettings{OTLPConnection: exporter.OTLPConnection{Endpoint: rcv.Endpoint}}, ServiceVersion: "test", Spans: mode != spans.None}
	cfg.Spans = mode
	p, err := Start(context.Background(), cfg)
	require.NoError(t, err)
	return rcv, func() Summary {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		sum, err := p.Stop(ctx)
		require.NoError(t, err)
		return sum
	}
}

// builtinRecipe returns one recipe of the built-in catalog.
func builtinRecipe(t *testing.T, name string) []*recipe.Recipe {
	t.Helper()
	builtin, errs := recipe.Builtin()
	require.Empty(t, errs)
	i := slices.IndexFunc(builtin, func(r *recipe.Recipe) bool { return r.Name == name })
	require.GreaterOrEqual(t, i, 0)
	return builtin[i : i+1]
}

// TestExecOfZipArrivesAsOTLPEvent runs every stage for real: the eBPF
// sensor, the process table, the built-in catalog and the OTLP/gRPC
// exporter, into a receiver built on the Collector's pdata packages.
func TestExecOfZipArrivesAsOTLPEvent(t *testing.T) {
	rcv, stop := watched(t, spans.All)
	dir := t.TempDir()
	zip := copyProgram(t, "/bin/true", dir, "zip")
	other := copyProgram(t, "/bin/true", dir, "unzip")
	zipCmd := exec.Command(zip, "-q", filepath.Join(dir, "out.zip"), "/etc/hostname")
	// A fixed environment: the CI that runs this test sets CI=true, which
	// would add cicd attributes to the record.
	zipCmd.Env = []string{"PATH=/usr/bin:/bin"}
	cwd, err := os.Getwd()
	require.NoError(t, err)
	require.NoError(t, zipCmd.Run())
	require.NoError(t, exec.Command(other, "-l", "x.zip").Run())

	sum := stop()
	require.Equal(t, uint64(1), sum.Detections)
	require.Zero(t, sum.Sensor.Lost())
	require.Zero(t, sum.EmitErrors)
	require.GreaterOrEqual(t, sum.Sensor.Events, uint64(6), "fork, exec and exit of both programs")

	recs := rcv.Records()
	require.Len(t, recs, 1, "the exec of zip, and nothing for unzip")
	r := recs[0]
	require.Equal(t, semconv.DetectionEventName, r.EventName())
	require.Equal(t, int32(9), int32(r.SeverityNumber()))
	require.Equal(t, "INFO", r.SeverityText())
	require.WithinDuration(t, time.Now(), r.Timestamp().AsTime(), time.Minute)
	attrs := r.Attributes().AsRaw()
	require.IsType(t, false, attrs[string(semconv.ProcessInteractiveKey)], "whether the test has a terminal")
	delete(attrs, string(semconv.ProcessInteractiveKey))
	// The sensor follows the test itself, which ran zip: nothing above
	// zip is the watched command's, so there is no chain to describe.
	require.NotContains(t, attrs, string(semconv.VigilProcessAncestorsKey))
	require.Equal(t, map[string]any{
		string(semconv.SecurityRuleNameKey):        "exec_example",
		string(semconv.SecurityRuleDescriptionKey): "Tool execution example",
		string(semconv.SecurityRuleCategoryKey):    "Execution",
		string(semconv.SecurityRuleRulesetNameKey): "vigil",
		string(semconv.SecurityRuleVersionKey):     "2",
		string(semconv.SecurityRuleReferenceKey):   "https://github.com/vigil-otel/vigil/blob/main/docs/recipes/exec_example.md",
		string(semconv.ThreatFrameworkKey):         "MITRE ATT&CK",
		string(semconv.ThreatTacticIDKey):          "TA0002",
		string(semconv.ThreatTacticNameKey):        "Execution",
		string(semconv.ThreatTechniqueIDKey):       []any{"T1059"},
		string(semconv.ThreatTechniqueNameKey):     []any{"Command and Scripting Interpreter"},
		string(semconv.ProcessPIDKey):              int64(zipCmd.Process.Pid),
		string(semconv.ProcessParentPIDKey):        int64(os.Getpid()),
		string(semconv.ProcessExecutablePathKey):   zip,
		string(semconv.ProcessExecutableNameKey):   "zip",
		string(semconv.ProcessCommandArgsKey):      []any{zip, "-q", filepath.Join(dir, "out.zip"), "/etc/hostname"},
		string(semconv.ProcessArgsCountKey):        int64(4),
		string(semconv.ProcessUserIDKey):           int64(0),
		string(semconv.ProcessRealUserIDKey):       int64(0),
		string(semconv.ProcessWorkingDirectoryKey): cwd,
		string(semconv.VigilRecipeImportanceKey):   "low",
	}, attrs)
	require.Equal(t, "vigil", r.Resource.Resource().Attributes().AsRaw()[string(semconv.ServiceNameKey)])
}

// TestReplayNeedsNoKernel replays a recording made by hand: a shell that
// forks and execs zip.
func TestReplayNeedsNoKernel(t *testing.T) {
	builtin, errs := recipe.Builtin()
	require.Empty(t, errs)
	recording := `{"kind":"exec","time":"2026-11-27T10:00:00Z","pid":10,"ppid":1,"exe_path":"/usr/bin/dash","args":["sh","-c","zip -q a.zip b"],"argc":3}
{"kind":"fork","time":"2026-11-27T10:00:01Z","pid":11,"ppid":10}
{"kind":"exec","time":"2026-11-27T10:00:01.5Z","pid":11,"ppid":10,"exe_path":"/usr/bin/zip","args":["zip","-q","a.zip","b"],"argc":4,"uid":1000,"euid":1000}
{"kind":"exit","time":"2026-11-27T10:00:02Z","pid":11,"ppid":10}

`
	var out bytes.Buffer
	sum, err := Replay(context.Background(), Config{Recipes: builtin, Exporter: exporter.Config{JSONL: &out}}, strings.NewReader(recording))
	require.NoError(t, err)
	require.Equal(t, uint64(4), sum.Sensor.Events)
	require.Equal(t, uint64(1), sum.Detections)
	var obj map[string]any
	require.NoError(t, json.Unmarshal(out.Bytes(), &obj))
	require.Equal(t, "exec_example", obj[string(semconv.SecurityRuleNameKey)])
	require.Equal(t, float64(11), obj[string(semconv.ProcessPIDKey)])
	require.Equal(t, float64(10), obj[string(semconv.ProcessParentPIDKey)])
	require.Equal(t, float64(1000), obj[string(semconv.ProcessUserIDKey)])
	require.Equal(t, "2026-11-27T10:00:01.5Z", obj["time"], "the recorded time of the exec")

	_, err = Replay(context.Background(), Config{Recipes: builtin, Exporter: exporter.Config{JSONL: &out}}, strings.NewReader("{\"kind\":\"exec\"}\nnot json\n"))
	require.ErrorContains(t, err, "recording line 2:")
	sum, err = Replay(context.Background(), Config{Recipes: builtin, Exporter: exporter.Config{JSONL: &out}}, strings.NewReader("{\"kind\":\"fork\",\"pid\":2}\n{\"pid\":3}\n"))
	require.EqualError(t, err, "recording line 2: no event kind: want exec, fork or exit")
	require.Equal(t, uint64(1), sum.Sensor.Events)
}
