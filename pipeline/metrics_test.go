package pipeline

import (
	"os/exec"
	"testing"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pmetric"

	"github.com/vigil-otel/vigil/recipe"
	"github.com/vigil-otel/vigil/semconv"
	"github.com/vigil-otel/vigil/spans"
)

// TestSelfMetricsCountWhatHappened runs known execs and reads vigil's own
// metrics as a collector receives them at shutdown.
func TestSelfMetricsCountWhatHappened(t *testing.T) {
	// A recipe whose expression fails on every zip.
	broken, errs := recipe.Parse("broken.yaml", []byte(`recipes:
  - name: broken
    description: d
    tactic: {id: TA0002, name: Execution}
    technique: {id: T1059, name: Command and Scripting Interpreter}
    importance: low
    match:
      executable: {name: zip}
      cel: 'env["NOT_SET"] == "1"'
`), "test")
	require.Empty(t, errs)
	rcv, stop := watchedWith(t, spans.All, append(builtinRecipe(t, "exec_example"), broken...))
	zip := copyProgram(t, "/bin/true", t.TempDir(), "zip")
	for range 3 {
		require.NoError(t, exec.Command(zip).Run())
	}
	// An invalid context is counted, not trusted.
	bad := exec.Command("/bin/true")
	bad.Env = []string{"TRACEPARENT=00-not-a-context-01"}
	require.NoError(t, bad.Run())

	sum := stop()
	require.Equal(t, uint64(1), sum.BadTraceparents)
	require.Equal(t, map[string]uint64{"broken": 3}, sum.EvalErrors)

	// The last export, at shutdown, holds the totals.
	last := map[string]pmetric.Metric{}
	for _, m := range rcv.Metrics() {
		last[m.Name()] = m.Metric
		require.Equal(t, "vigil", m.Resource.Resource().Attributes().AsRaw()[string(semconv.ServiceNameKey)])
	}
	sumOf := func(name string, attr ...string) int64 {
		t.Helper()
		m, ok := last[name]
		require.True(t, ok, "no metric %s", name)
		var pts pmetric.NumberDataPointSlice
		switch m.Type() {
		case pmetric.MetricTypeSum:
			pts = m.Sum().DataPoints()
		case pmetric.MetricTypeGauge:
			pts = m.Gauge().DataPoints()
		}
		var total int64
		for _, pt := range pts.All() {
			if len(attr) == 2 {
				if v, ok := pt.Attributes().Get(attr[0]); !ok || v.Str() != attr[1] {
					continue
				}
			}
			total += pt.IntValue()
		}
		return total
	}
	require.Equal(t, int64(4), sumOf(semconv.MetricExecs))
	require.Equal(t, int64(sum.Sensor.Events), sumOf(semconv.MetricEvents))
	require.Equal(t, int64(3), sumOf(semconv.MetricDetections, string(semconv.SecurityRuleNameKey), "exec_example"))
	require.Equal(t, int64(3), sumOf(semconv.MetricDetections, string(semconv.VigilRecipeImportanceKey), "low"))
	require.Zero(t, sumOf(semconv.MetricLost))
	require.Equal(t, int64(1), sumOf(semconv.MetricBadTraceparents))
	require.Contains(t, last, semconv.MetricRingBufferPending)
	require.Contains(t, last, semconv.MetricProcesses)
	require.Zero(t, sumOf(semconv.MetricEvictions))
	require.Equal(t, int64(3), sumOf(semconv.MetricEvalErrors))
}
