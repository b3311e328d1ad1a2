package exporter

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/log"

	"github.com/vigil-otel/vigil/detection"
	"github.com/vigil-otel/vigil/internal/otlptest"
	"github.com/vigil-otel/vigil/semconv"
)

// sampleRecord is a detection as package describe gives it, built by hand:
// the exporter takes what it is given.
func sampleRecord(args ...string) *detection.Record {
	when := time.Date(2026, 11, 27, 9, 13, 28, 123456789, time.UTC)
	return &detection.Record{
		Exec: &detection.Exec{SpanName: "exec zip", Time: when, Attributes: []attribute.KeyValue{
			semconv.ProcessPIDKey.Int64(4242),
			semconv.ProcessParentPIDKey.Int64(4200),
			semconv.ProcessExecutablePathKey.String("/usr/bin/zip"),
			semconv.ProcessCommandArgsKey.StringSlice(args),
			semconv.ProcessUserIDKey.Int64(1000),
		}},
		Severity:     log.SeverityFatal,
		SeverityText: "FATAL",
		Body:         "Tool execution example: /usr/bin/zip ran as pid 4242",
		Rule: []attribute.KeyValue{
			semconv.SecurityRuleNameKey.String("exec_example"),
			semconv.ThreatTacticIDKey.String("TA0042"),
			semconv.ThreatTacticNameKey.String("Resource Development"),
			semconv.ThreatTechniqueIDKey.StringSlice([]string{"T1105", "T1059"}),
			semconv.ThreatTechniqueNameKey.StringSlice([]string{"Ingress Tool Transfer", "Command and Scripting Interpreter"}),
			semconv.ThreatTechniqueSubtechniqueIDKey.StringSlice([]string{"T1059.004"}),
			semconv.ThreatTechniqueSubtechniqueNameKey.StringSlice([]string{"Unix Shell"}),
		},
		Context: []attribute.KeyValue{semconv.VigilProcessAncestorsKey.StringSlice([]string{"4200 bash"})},
	}
}

func TestOTLPRecordCarriesTheDetection(t *testing.T) {
	rcv := otlptest.Start(t)
	t.Setenv("OTEL_RESOURCE_ATTRIBUTES", "deployment.environment.name=ci")
	exp, err := New(context.Background(), Config{OTLP: true, OTLPSettings: OTLPSettings{OTLPConnection: OTLPConnection{Endpoint: rcv.Endpoint}}, ServiceVersion: "1.2.3"})
	require.NoError(t, err)
	require.NoError(t, exp.Emit(context.Background(), sampleRecord("zip", "-q", "x.zip")))
	require.NoError(t, exp.Shutdown(context.Background()))
	require.ErrorIs(t, exp.Emit(context.Background(), sampleRecord()), ErrShutdown)

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
		string(semconv.SecurityRuleNameKey):                "exec_example",
		string(semconv.ThreatTacticIDKey):                  "TA0042",
		string(semconv.ThreatTacticNameKey):                "Resource Development",
		string(semconv.ThreatTechniqueIDKey):               []any{"T1105", "T1059"},
		string(semconv.ThreatTechniqueNameKey):             []any{"Ingress Tool Transfer", "Command and Scripting Interpreter"},
		string(semconv.ThreatTechniqueSubtechniqueIDKey):   []any{"T1059.004"},
		string(semconv.ThreatTechniqueSubtechniqueNameKey): []any{"Unix Shell"},
		string(semconv.ProcessPIDKey):                      int64(4242),
		string(semconv.ProcessParentPIDKey):                int64(4200),
		string(semconv.ProcessExecutablePathKey):           "/usr/bin/zip",
		string(semconv.ProcessCommandArgsKey):              []any{"zip", "-q", "x.zip"},
		string(semconv.ProcessUserIDKey):                   int64(1000),
		string(semconv.VigilProcessAncestorsKey):           []any{"4200 bash"},
	}, r.Attributes().AsRaw())
}

func TestJSONLinesAreFlat(t *testing.T) {
	var out bytes.Buffer
	exp, err := New(context.Background(), Config{JSONL: &out})
	require.NoError(t, err)
	require.NoError(t, exp.Emit(context.Background(), sampleRecord("zip", "a b")))
	require.NoError(t, exp.Emit(context.Background(), sampleRecord("zip")))
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
	require.Len(t, obj, 20, "7 record fields and 13 attributes")
}

func TestConsoleLineEscapesHostileArguments(t *testing.T) {
	var out bytes.Buffer
	exp, err := New(context.Background(), Config{Console: &out})
	require.NoError(t, err)
	require.NoError(t, exp.Emit(context.Background(), sampleRecord("zip", "-q", "two words", "\x1b[2J\nFAKE LINE", "", "say \"hi\"\u2028", `C:\dir`)))
	require.NoError(t, exp.Shutdown(context.Background()))

	line := out.String()
	require.Equal(t, 1, strings.Count(line, "\n"), "one line, whatever the arguments hold")
	require.Contains(t, line, `FATAL exec_example  pid=4242 ppid=4200 uid=1000 /usr/bin/zip -q "two words" "\u001b[2J\nFAKE LINE" "" "say \"hi\"\u2028" C:\dir  [TA0042 Resource Development / T1105 Ingress Tool Transfer, T1059.004 Unix Shell]`)
}

func TestConsoleLineSaysTheCommandLineWasCut(t *testing.T) {
	var out bytes.Buffer
	exp, err := New(context.Background(), Config{Console: &out})
	require.NoError(t, err)
	rec := sampleRecord("zip", "-q", "x.zip")
	rec.Exec.Attributes = append(rec.Exec.Attributes, semconv.ProcessArgsCountKey.Int64(80), semconv.VigilProcessArgsTruncatedKey.Bool(true))
	require.NoError(t, exp.Emit(context.Background(), rec))
	require.NoError(t, exp.Shutdown(context.Background()))
	require.Contains(t, out.String(), "uid=1000 /usr/bin/zip -q x.zip … (cut; 80 arguments)  [TA0042")
}

// TestConsoleLineEscapesHostileLabels: a recipe file names its techniques
// as it likes; a name that would move the cursor or end the line is
// quoted, and plain ones are written as they are.
func TestConsoleLineEscapesHostileLabels(t *testing.T) {
	var out bytes.Buffer
	d := sampleRecord("zip")
	d.Rule = []attribute.KeyValue{
		semconv.SecurityRuleNameKey.String("exec_example"),
		semconv.ThreatTacticIDKey.String("TA0002"),
		semconv.ThreatTacticNameKey.String("Execution"),
		semconv.ThreatTechniqueIDKey.StringSlice([]string{"T1059"}),
		semconv.ThreatTechniqueNameKey.StringSlice([]string{"Evil\x1b[2J\nFAKE LINE"}),
	}
	exp, err := New(context.Background(), Config{Console: &out})
	require.NoError(t, err)
	require.NoError(t, exp.Emit(context.Background(), d))
	require.NoError(t, exp.Shutdown(context.Background()))
	require.Equal(t, 1, strings.Count(out.String(), "\n"))
	require.Contains(t, out.String(), `[TA0002 Execution / "T1059 Evil\u001b[2J\nFAKE LINE"]`)
}
