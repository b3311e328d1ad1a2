package exporter

import (
	"bytes"
	"encoding/json"
	"math"
	"strings"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/log"

	"github.com/vigil-otel/vigil/detection"
	"github.com/vigil-otel/vigil/semconv"
)

// The console and JSON lines outputs write what processes chose to be
// (their arguments, their paths) where people and programs read it: one
// detection must stay one line, and must not drive a terminal.

// fuzzRecord builds a detection of which every string is fuzzed: args
// holds the arguments separated by NULs; key and value make one more
// attribute, number another.
func fuzzRecord(name, exe, args, label, key, value string, number float64, at int64) record {
	return record{Record: &detection.Record{
		Exec: &detection.Exec{SpanName: "exec " + exe, Executable: exe, Time: time.Unix(0, at), Attributes: []attribute.KeyValue{
			semconv.ProcessPIDKey.Int64(at),
			semconv.ProcessExecutablePathKey.String(exe),
			semconv.ProcessCommandArgsKey.StringSlice(strings.Split(args, "\x00")),
		}},
		Severity:     log.Severity(len(label)),
		SeverityText: label,
		Body:         value,
		Rule: []attribute.KeyValue{
			semconv.SecurityRuleNameKey.String(name),
			semconv.ThreatTacticIDKey.String(label),
			semconv.ThreatTacticNameKey.String(value),
			semconv.ThreatTechniqueIDKey.StringSlice([]string{label, name}),
			semconv.ThreatTechniqueNameKey.StringSlice([]string{value}),
			semconv.ThreatTechniqueSubtechniqueIDKey.StringSlice([]string{label + "." + value}),
			semconv.ThreatTechniqueSubtechniqueNameKey.StringSlice([]string{exe}),
		},
		Context: []attribute.KeyValue{attribute.Key(key).String(value), attribute.Key(value).Float64(number)},
	}}
}

func FuzzWriters(f *testing.F) {
	f.Add("exec_example", "/usr/bin/zip", "zip\x00-q\x00two words", "FATAL", string(semconv.VigilProcessAncestorsKey), "4200 bash", 1.5, int64(1764234808123456789))
	f.Add("x", "/tmp/\x1b[2J", "\x1b]0;title\x07\x00a\nFAKE LINE\r\x00\x7f\u0085\u009b", "TA0042\n", "k\"\\", "\u2028\u2029\u202e", 0.0, int64(-1))
	f.Add("", "", "", "", "", "\xff\xfe\xc3", math.Inf(-1), int64(0))
	f.Add("n", "/bin/sh", "sh\x00-c\x00"+strings.Repeat("A\x01", 1<<12), "INFO", string(semconv.ProcessCommandArgsKey), "\t", 1e308, int64(1<<62))
	f.Fuzz(func(t *testing.T, name, exe, args, label, key, value string, number float64, at int64) {
		rec := fuzzRecord(name, exe, args, label, key, value, number, at)

		var jsonl bytes.Buffer
		require.NoError(t, newJSONL(&jsonl).write([]record{rec}))
		line := jsonl.Bytes()
		require.Equal(t, 1, bytes.Count(line, []byte("\n")), "one line: %q", line)
		require.True(t, bytes.HasSuffix(line, []byte("\n")))
		require.True(t, json.Valid(line), "valid JSON: %q", line)
		if key != string(semconv.ProcessCommandArgsKey) && value != string(semconv.ProcessCommandArgsKey) {
			var obj map[string]any
			require.NoError(t, json.Unmarshal(line, &obj))
			// Each argument reads back as encoding/json would give it.
			want, err := json.Marshal(strings.Split(args, "\x00"))
			require.NoError(t, err)
			var wantArgs []any
			require.NoError(t, json.Unmarshal(want, &wantArgs))
			require.Equal(t, wantArgs, obj[string(semconv.ProcessCommandArgsKey)])
		}

		var console bytes.Buffer
		require.NoError(t, newConsole(&console).write([]record{rec}))
		text := console.String()
		require.Equal(t, 1, strings.Count(text, "\n"), "one line: %q", text)
		require.True(t, strings.HasSuffix(text, "\n"))
		text = strings.TrimSuffix(text, "\n")
		for i := 0; i < len(text); {
			r, size := utf8.DecodeRuneInString(text[i:])
			require.False(t, r < 0x20 || r == 0x7f, "a raw control byte %#x at %d: %q", r, i, text)
			// Neither may a C1 control or a format character (bidi
			// overrides) in UTF-8 reach the terminal.
			require.False(t, size > 1 && (unicode.IsControl(r) || unicode.Is(unicode.Cf, r)), "a raw %U at %d: %q", r, i, text)
			i += size
		}
	})
}
