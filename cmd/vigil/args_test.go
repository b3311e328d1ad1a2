package main

import (
	"bytes"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pcommon"

	"github.com/vigil-otel/vigil/internal/otlptest"
	"github.com/vigil-otel/vigil/semconv"
)

// TestCutCommandLineIsFlagged runs zip under vigil with a bound of argv
// bytes its command line exceeds: the detection says the command line
// was cut, with the kernel's count of its arguments, in JSON lines, in
// the OTLP log record, on the exec's span and in the span's event.
func TestCutCommandLineIsFlagged(t *testing.T) {
	vigil := buildVigil(t)
	rcv := otlptest.Start(t)
	dir := t.TempDir()
	out := filepath.Join(dir, "out.jsonl")
	const argc = 6 // zip -q ARCHIVE and three files
	cmd := exec.Command(vigil, "run", "--args-max", "24", "--jsonl", out, "--otlp-endpoint", rcv.Endpoint, "--",
		"zip", "-q", filepath.Join(dir, "x.zip"), "/etc/hostname", "/etc/passwd", "/etc/group")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	require.NoError(t, cmd.Run(), "stderr: %s", stderr.String())

	objs := readJSONL(t, out)
	require.Len(t, objs, 1)
	require.Equal(t, "exec_example", objs[0][string(semconv.SecurityRuleNameKey)])
	require.Equal(t, float64(argc), objs[0][string(semconv.ProcessArgsCountKey)])
	require.Equal(t, true, objs[0][string(semconv.VigilProcessArgsTruncatedKey)])
	args := objs[0][string(semconv.ProcessCommandArgsKey)].([]any)
	require.Less(t, len(args), argc)
	require.Equal(t, []any{"zip", "-q"}, args[:2])

	// flagged checks one exported set of attributes.
	flagged := func(what string, attrs pcommon.Map) {
		t.Helper()
		n, ok := attrs.Get(string(semconv.ProcessArgsCountKey))
		require.True(t, ok, "%s: no %s", what, semconv.ProcessArgsCountKey)
		require.Equal(t, int64(argc), n.Int(), what)
		cut, ok := attrs.Get(string(semconv.VigilProcessArgsTruncatedKey))
		require.True(t, ok, "%s: no %s", what, semconv.VigilProcessArgsTruncatedKey)
		require.True(t, cut.Bool(), what)
	}
	recs := rcv.Records()
	require.Len(t, recs, 1)
	flagged("log record", recs[0].Attributes())
	spans := rcv.Spans()
	i := slices.IndexFunc(spans, func(s otlptest.Span) bool { return s.Name() == "exec zip" })
	require.GreaterOrEqual(t, i, 0, "no span of zip")
	flagged("span", spans[i].Attributes())
	require.Equal(t, 1, spans[i].Events().Len())
	flagged("span event", spans[i].Events().At(0).Attributes())
}
