package main

import (
	"bytes"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/vigil-otel/vigil/exporter"
	"github.com/vigil-otel/vigil/pipeline"
	"github.com/vigil-otel/vigil/recipe"
	"github.com/vigil-otel/vigil/sensor"
)

// TestPrintSummary: the first line gives every labelled count of
// pipeline.Counters, what was seen, lost and degraded; the breakdowns
// follow.
func TestPrintSummary(t *testing.T) {
	var b bytes.Buffer
	printSummary(&b, pipeline.Summary{
		Sensor:            sensor.Stats{Events: 10, RingBufferDrops: 1, DecodeErrors: 2},
		Exporter:          exporter.Stats{Failed: 3, Queued: 4, Spooled: 5, JSONLLost: 1},
		Execs:             4,
		Duration:          2 * time.Second,
		Detections:        1,
		ByRecipe:          map[string]uint64{"exec_example": 1},
		ByImportance:      map[recipe.Importance]uint64{recipe.Low: 1},
		EmitErrors:        1,
		Processes:         65,
		TableEvictions:    5,
		SequenceEvictions: 6,
		LimitEvictions:    4,
		EvalErrorTotal:    2,
		EvalErrors:        map[string]uint64{"broken": 2},
	})
	require.Equal(t, "vigil: events 10, detections 1, processes known 65, kept in memory for the receiver 4, kept on disk for the receiver 5; lost 8 (ring buffer full 1, filter full 0, scratch busy 0, undecodable 2, export refused 1, export failed 3, span export failed 0, JSON lines dropped 1, console lines dropped 0, report entries dropped 0, recording lines dropped 0); process table evictions 5; invalid TRACEPARENT ignored 0; sequences begun and forgotten 6; report limit keys forgotten 4; recipe expressions failed 2\n"+
		"vigil: execs 4 in 2s (2.0/s)\n"+
		"vigil: detections by importance: low 1; by recipe: exec_example 1\n"+
		"vigil: recipe expressions that failed at run time, and did not match: broken 2\n", b.String())
}
