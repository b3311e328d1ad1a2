package pipeline

// What a pipeline counted, and the summary it gives when it stops.

import (
	"time"

	"github.com/vigil-otel/vigil/exporter"
	"github.com/vigil-otel/vigil/recipe"
	"github.com/vigil-otel/vigil/sensor"
)

// Summary is what a pipeline saw and lost, reported when it stops. Its
// counts are described, once each, by [Counters].
type Summary struct {
	Sensor sensor.Stats
	// Exporter is what the exporter delivered, and did not.
	Exporter exporter.Stats
	// Pending is what the ring held unread when counted.
	Pending uint64
	// Execs counts the execs seen, over Duration.
	Execs    uint64
	Duration time.Duration
	// Detections counts the detections reported, and ByRecipe and
	// ByImportance break them down.
	Detections   uint64
	ByRecipe     map[string]uint64
	ByImportance map[recipe.Importance]uint64
	// EmitErrors counts detections the exporter refused.
	EmitErrors uint64
	// BadTraceparents counts execs whose TRACEPARENT was ignored as
	// invalid.
	BadTraceparents uint64
	// Processes is the size of the process table at the end.
	Processes int
	// TableEvictions counts processes the full table forgot.
	TableEvictions uint64
	// Suppressed counts, by recipe, the matches that report limits held
	// back since the recipes were last loaded.
	Suppressed map[string]uint64
	// SequenceEvictions counts the sequences begun that sequence recipes
	// forgot to keep their state within bounds.
	SequenceEvictions uint64
	// LimitEvictions counts the keys that report limits forgot before
	// their window ran out, to stay within their bounds.
	LimitEvictions uint64
	// EvalErrorTotal counts the times the recipes' expressions failed at
	// run time, and EvalErrors breaks it down by recipe, since the recipes
	// were last loaded.
	EvalErrorTotal uint64
	EvalErrors     map[string]uint64
	// RecordingLost counts the events the recording dropped.
	RecordingLost uint64
}

// summary reports what the pipeline's stages counted, with the sensor's
// figures, once the reader goroutine has ended.
func (p *Pipeline) summary(stats sensor.Stats) Summary {
	sum := p.counts(stats)
	sum.Duration = time.Since(p.started)
	sum.ByRecipe, sum.ByImportance = p.byRecipe, p.byImportance
	sum.Suppressed = p.engine.Suppressed()
	sum.EvalErrors = p.engine.EvalErrors()
	return sum
}

// counts reads the counts of [Counters] from the stages, and from the
// reader goroutine's copies of its own: safe from any goroutine, it is
// what the self-metrics read too.
func (p *Pipeline) counts(stats sensor.Stats) Summary {
	sum := Summary{
		Sensor:            stats,
		Exporter:          p.exporter.Stats(),
		Execs:             p.execs.Load(),
		Detections:        p.detections.Load(),
		EmitErrors:        p.emitErrors.Load(),
		BadTraceparents:   uint64(p.badTraceparents.Load()),
		Processes:         int(p.tableSize.Load()),
		TableEvictions:    uint64(p.tableEvictions.Load()),
		SequenceEvictions: uint64(p.sequenceEvictions.Load()),
		LimitEvictions:    uint64(p.limitEvictions.Load()),
		EvalErrorTotal:    uint64(p.evalErrors.Load()),
		RecordingLost:     p.recording.Lost(),
	}
	if p.sensor != nil {
		sum.Pending = p.sensor.Pending()
	}
	return sum
}
