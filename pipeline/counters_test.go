package pipeline

import (
	"os"
	"testing"

	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"

	"github.com/vigil-otel/vigil/exporter"
	"github.com/vigil-otel/vigil/semconv"
	"github.com/vigil-otel/vigil/sensor"
)

// registryGroups reads one file of the semantic-convention registry.
func registryGroups(t *testing.T, file string) []map[string]any {
	t.Helper()
	data, err := os.ReadFile("../semconv/registry/" + file)
	require.NoError(t, err)
	var f struct {
		Groups []map[string]any `yaml:"groups"`
	}
	require.NoError(t, yaml.Unmarshal(data, &f))
	return f.Groups
}

// TestCountersAgreeWithRegistry: each counter's metric is in the registry
// with its unit and instrument, each registry metric has a counter, and
// vigil.loss.stage names each loss stage.
func TestCountersAgreeWithRegistry(t *testing.T) {
	metrics := map[string]map[string]any{}
	for _, g := range registryGroups(t, "metrics.yaml") {
		metrics[g["metric_name"].(string)] = g
	}
	var stageNote string
	for _, g := range registryGroups(t, "vigil.yaml") {
		for _, a := range g["attributes"].([]any) {
			if a := a.(map[string]any); a["id"] == string(semconv.VigilLossStageKey) {
				stageNote = a["note"].(string)
			}
		}
	}
	require.NotEmpty(t, stageNote)
	labels := map[string]bool{}
	covered := map[string]bool{}
	for _, c := range Counters() {
		m, ok := metrics[c.Metric]
		require.True(t, ok, "%s is not a metric of semconv/registry", c.Metric)
		covered[c.Metric] = true
		require.Equal(t, m["unit"], c.Unit, c.Metric)
		instrument := "counter"
		if c.Gauge {
			instrument = "gauge"
		}
		require.Equal(t, m["instrument"], instrument, c.Metric)
		require.Equal(t, c.Kind == Lost, c.Metric == semconv.MetricLost, "%s: the lost counters, and only they, are vigil.lost", c.Metric)
		if c.Kind == Lost {
			require.Contains(t, stageNote, "`"+c.LossStage+"`", "vigil.loss.stage does not name %s", c.LossStage)
		}
		require.NotEmpty(t, c.Meaning, c.Metric)
		require.NotNil(t, c.Value, c.Metric)
		if c.Label != "" {
			require.False(t, labels[c.Label], "label %q twice", c.Label)
			labels[c.Label] = true
		}
	}
	for name := range metrics {
		require.True(t, covered[name], "registry metric %s has no counter", name)
	}
}

// TestLossesByStage: the loss stages sum their counters, and Lost is the
// total.
func TestLossesByStage(t *testing.T) {
	s := Summary{
		Sensor:        sensor.Stats{RingBufferDrops: 1, TrackDrops: 2, ScratchBusyDrops: 3, DecodeErrors: 4},
		Exporter:      exporter.Stats{Failed: 5, SpansFailed: 6, JSONLLost: 8, ConsoleLost: 9, ReportLost: 10},
		EmitErrors:    7,
		RecordingLost: 11,
	}
	require.Equal(t, map[string]uint64{"ring_buffer": 1, "filter": 2, "scratch": 3, "decode": 4, "export": 12, "span_export": 6, "output": 38}, s.Losses())
	require.Equal(t, uint64(66), s.Lost())
}
