package exporter

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pcommon"

	"github.com/vigil-otel/vigil/detection"
	"github.com/vigil-otel/vigil/event"
	"github.com/vigil-otel/vigil/internal/otlptest"
	"github.com/vigil-otel/vigil/proctable"
	"github.com/vigil-otel/vigil/recipe"
	"github.com/vigil-otel/vigil/semconv"
)

func sampleDetection(args ...string) *detection.Detection {
	when := time.Date(2026, 11, 27, 9, 13, 28, 123456789, time.UTC)
	return &detection.Detection{
		Recipe: &recipe.Recipe{
			Name:        "exec_example",
			Description: "Tool execution example",
			Tactic:      recipe.ATTACK{ID: "TA0042", Name: "Resource Development"},
			Techniques: []recipe.Technique{
				{ATTACK: recipe.ATTACK{ID: "T1105", Name: "Ingress Tool Transfer"}},
				{ATTACK: recipe.ATTACK{ID: "T1059", Name: "Command and Scripting Interpreter"}, Sub: recipe.ATTACK{ID: "T1059.004", Name: "Unix Shell"}},
			},
			Importance: recipe.Critical,
			Version:    2,
			Reference:  "https://example.com/exec_example",
			Ruleset:    "vigil",
		},
		Exec:    &event.Event{Kind: event.KindExec, Time: when, PID: 4242, PPID: 4200, UID: 1000, EUID: 1000},
		Process: &proctable.Process{PID: 4242, PPID: 4200, Exe: "/usr/bin/zip", Args: args},
		Ancestors: []*proctable.Process{
			{PID: 4200, PPID: 4100, Exe: "/usr/bin/bash", Args: []string{"bash", "-c", "zip x.zip \x1b[2J"}},
			{PID: 4100, PPID: 4000, Exe: "/usr/bin/make"},
			{PID: 4000, PPID: 1, Exe: "/usr/bin/deploy", Args: []string{"deploy", "--password=hunter2"}},
		},
	}
}

func TestOTLPRecordCarriesTheDetection(t *testing.T) {
	rcv := otlptest.Start(t)
	t.Setenv("OTEL_RESOURCE_ATTRIBUTES", "deployment.environment.name=ci")
	exp, err := New(context.Background(), Config{OTLP: true, OTLPSettings: OTLPSettings{OTLPConnection: OTLPConnection{Endpoint: rcv.Endpoint}}, ServiceVersion: "1.2.3"})
	require.NoError(t, err)
	require.NoError(t, exp.Emit(context.Background(), sampleDetection("zip", "-q", "x.zip", "bad\xffutf8")))
	require.NoError(t, exp.Shutdown(context.Background()))
	require.ErrorIs(t, exp.Emit(context.Background(), sampleDetection()), ErrShutdown)

	recs := rcv.Records()
	require.Len(t, recs, 1)
	r := recs[0]
	host, _ := os.Hostname()
	res := r.Resource.Resource().Attributes().AsRaw()
	require.Equal(t, "vigil", res[string(semconv.ServiceNameKey)])
	require.Equal(t, "1.2.3", res[string(semconv.ServiceVersionKey)])
	require.Equal(t, host, res[string(semconv.HostNameKey)])
	require.Equal(t, "ci", res["deployment.environment.name"])

	require.Equal(t, semconv.DetectionEventName, r.EventName())
	require.Equal(t, int32(21), int32(r.SeverityNumber()))
	require.Equal(t, "FATAL", r.SeverityText())
	require.Equal(t, "Tool execution example: /usr/bin/zip ran as pid 4242", r.Body().Str())
	require.Equal(t, pcommon.NewTimestampFromTime(time.Date(2026, 11, 27, 9, 13, 28, 123456789, time.UTC)), r.Timestamp())
	require.NotZero(t, r.ObservedTimestamp())
	require.Equal(t, map[string]any{
		string(semconv.SecurityRuleNameKey):        "exec_example",
		string(semconv.SecurityRuleDescriptionKey): "Tool execution example",
		string(semconv.SecurityRuleCategoryKey):    "Resource Development",
		string(semconv.SecurityRuleRulesetNameKey): "vigil",
		string(semconv.SecurityRuleVersionKey):     "2",
		string(semconv.SecurityRuleReferenceKey):   "https://example.com/exec_example",
		string(semconv.ThreatFrameworkKey):         "MITRE ATT&CK",
		string(semconv.ThreatTacticIDKey):          "TA0042",
		string(semconv.ThreatTacticNameKey):        "Resource Development",
		// Techniques and sub-techniques apart, as ECS files them.
		string(semconv.ThreatTechniqueIDKey):               []any{"T1105", "T1059"},
		string(semconv.ThreatTechniqueNameKey):             []any{"Ingress Tool Transfer", "Command and Scripting Interpreter"},
		string(semconv.ThreatTechniqueSubtechniqueIDKey):   []any{"T1059.004"},
		string(semconv.ThreatTechniqueSubtechniqueNameKey): []any{"Unix Shell"},
		string(semconv.ProcessPIDKey):                      int64(4242),
		string(semconv.ProcessParentPIDKey):                int64(4200),
		string(semconv.ProcessExecutablePathKey):           "/usr/bin/zip",
		string(semconv.ProcessExecutableNameKey):           "zip",
		string(semconv.ProcessCommandArgsKey):              []any{"zip", "-q", "x.zip", "bad\uFFFDutf8"},
		string(semconv.ProcessUserIDKey):                   int64(1000),
		string(semconv.ProcessRealUserIDKey):               int64(1000),
		string(semconv.ProcessInteractiveKey):              false,
		string(semconv.VigilRecipeImportanceKey):           "critical",
		// Redacted, quoted where an argument holds spaces or escapes, and
		// the executable's path for a process without arguments.
		string(semconv.VigilProcessAncestorsKey): []any{`4200 bash -c "zip x.zip \x1b[2J"`, "4100 /usr/bin/make", "4000 deploy --password=[REDACTED]"},
	}, r.Attributes().AsRaw())
}

func TestJSONLinesAreFlat(t *testing.T) {
	var out bytes.Buffer
	exp, err := New(context.Background(), Config{JSONL: &out})
	require.NoError(t, err)
	require.NoError(t, exp.Emit(context.Background(), sampleDetection("zip", "a b")))
	require.NoError(t, exp.Emit(context.Background(), sampleDetection("zip")))
	require.NoError(t, exp.Shutdown(context.Background()))

	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	require.Len(t, lines, 2)
	var obj map[string]any
	require.NoError(t, json.Unmarshal([]byte(lines[0]), &obj))
	require.Equal(t, "2026-11-27T09:13:28.123456789Z", obj["time"])
	require.Equal(t, semconv.DetectionEventName, obj["event_name"])
	require.Equal(t, float64(21), obj["severity_number"])
	require.Equal(t, "FATAL", obj["severity_text"])
	require.Equal(t, "Tool execution example: /usr/bin/zip ran as pid 4242", obj["body"])
	require.Equal(t, "", obj["trace_id"])
	require.Equal(t, "", obj["span_id"])
	require.Equal(t, "exec_example", obj[string(semconv.SecurityRuleNameKey)])
	require.Equal(t, float64(4200), obj[string(semconv.ProcessParentPIDKey)])
	require.Equal(t, []any{"zip", "a b"}, obj[string(semconv.ProcessCommandArgsKey)])
	require.Len(t, obj, 30, "7 record fields and 23 attributes")
}

func TestConsoleLineEscapesHostileArguments(t *testing.T) {
	var out bytes.Buffer
	exp, err := New(context.Background(), Config{Console: &out})
	require.NoError(t, err)
	require.NoError(t, exp.Emit(context.Background(), sampleDetection("zip", "-q", "two words", "\x1b[2J\nFAKE LINE", "", "say \"hi\"\u2028", `C:\dir`)))
	require.NoError(t, exp.Shutdown(context.Background()))

	line := out.String()
	require.Equal(t, 1, strings.Count(line, "\n"), "one line, whatever the arguments hold")
	require.Contains(t, line, `FATAL exec_example  pid=4242 ppid=4200 uid=1000 /usr/bin/zip -q "two words" "\x1b[2J\nFAKE LINE" "" "say \"hi\"\u2028" C:\dir  [TA0042 Resource Development / T1105 Ingress Tool Transfer, T1059.004 Unix Shell]`)
}

func TestExportedStringsAreRedactedAndBounded(t *testing.T) {
	var out bytes.Buffer
	exp, err := New(context.Background(), Config{JSONL: &out})
	require.NoError(t, err)
	huge := strings.Repeat("é", maxString) // two bytes each
	d := sampleDetection("zip", "--password=hunter2", "-P", "https://bob:s3cr3t@example.com/x", huge, "a\x80b")
	d.Exec.Cwd = "/home/bob/ghp_" + strings.Repeat("A", 36)
	d.Ancestors[0].Args = append(slices.Repeat([]string{huge}, 1000), "--password=hunter2")
	d.Ancestors = slices.Repeat(d.Ancestors, 10)
	require.NoError(t, exp.Emit(context.Background(), d))
	require.NoError(t, exp.Shutdown(context.Background()))

	line := out.String()
	for _, secret := range []string{"hunter2", "s3cr3t", "ghp_AAAA"} {
		require.NotContains(t, line, secret)
	}
	var obj map[string]any
	require.NoError(t, json.Unmarshal([]byte(line), &obj))
	args := obj[string(semconv.ProcessCommandArgsKey)].([]any)
	require.Equal(t, "--password=[REDACTED]", args[1])
	require.Equal(t, "https://bob:[REDACTED]@example.com/x", args[3])
	require.LessOrEqual(t, len(args[4].(string)), maxString)
	require.True(t, strings.HasSuffix(args[4].(string), "…"))
	require.Equal(t, "a\uFFFDb", args[5], "valid UTF-8")
	chain := obj[string(semconv.VigilProcessAncestorsKey)].([]any)
	require.Len(t, chain, maxAncestors)
	require.LessOrEqual(t, len(chain[0].(string)), maxAncestorLine)
	require.True(t, strings.HasPrefix(chain[0].(string), "4200 "+huge[:100]))
	require.True(t, strings.HasSuffix(chain[0].(string), "…"))
}

// TestLoaderVariables: the loader's variables go out when set, empty ones
// too, redacted like the rest; the other variables the sensor read do not.
func TestLoaderVariables(t *testing.T) {
	var out bytes.Buffer
	exp, err := New(context.Background(), Config{JSONL: &out})
	require.NoError(t, err)
	d := sampleDetection("zip")
	d.Exec.Env = map[string]string{
		"LD_PRELOAD":  "/tmp/.x/libhide.so https://bob:s3cr3t@example.com/x",
		"LD_AUDIT":    "",
		"TRACEPARENT": "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
		"HOME":        "/root",
	}
	require.NoError(t, exp.Emit(context.Background(), d))
	require.NoError(t, exp.Shutdown(context.Background()))
	var obj map[string]any
	require.NoError(t, json.Unmarshal(out.Bytes(), &obj))
	env := map[string]any{}
	prefix := string(semconv.ProcessEnvironmentVariable("", "").Key)
	for k, v := range obj {
		if name, ok := strings.CutPrefix(k, prefix); ok {
			env[name] = v
		}
	}
	require.Equal(t, map[string]any{
		"LD_PRELOAD": "/tmp/.x/libhide.so https://bob:[REDACTED]@example.com/x",
		"LD_AUDIT":   "",
	}, env)
}

func TestPodOfTheProcess(t *testing.T) {
	var out bytes.Buffer
	exp, err := New(context.Background(), Config{JSONL: &out})
	require.NoError(t, err)
	d := sampleDetection("zip")
	d.Exec.ContainerID = strings.Repeat("ab", 32)
	d.Exec.PodUID = "0a1b2c3d-1111-2222-3333-444455556666"
	require.NoError(t, exp.Emit(context.Background(), d))
	require.NoError(t, exp.Shutdown(context.Background()))
	var obj map[string]any
	require.NoError(t, json.Unmarshal(out.Bytes(), &obj))
	require.Equal(t, "0a1b2c3d-1111-2222-3333-444455556666", obj[string(semconv.K8SPodUIDKey)], "what k8sattributes associates by")
	require.Equal(t, strings.Repeat("ab", 32), obj[string(semconv.ContainerIDKey)])
}
