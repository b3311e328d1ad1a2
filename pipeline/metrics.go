package pipeline

import (
	"context"
	"errors"
	"fmt"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"

	"github.com/vigil-otel/vigil/recipe"
	"github.com/vigil-otel/vigil/semconv"
	"github.com/vigil-otel/vigil/sensor"
)

// observe registers vigil's own metrics. They are read from the stages'
// counters when the meter collects, once a minute, so that the event path
// pays nothing for them; detections, rare, are counted as they happen.
func (p *Pipeline) observe(meter metric.Meter) error {
	var err error
	if p.detectionCount, err = meter.Int64Counter(semconv.MetricDetections, metric.WithUnit("{detection}"),
		metric.WithDescription("Detections, by recipe and importance.")); err != nil {
		return fmt.Errorf("metric %s: %w", semconv.MetricDetections, err)
	}
	events, err1 := meter.Int64ObservableCounter(semconv.MetricEvents, metric.WithUnit("{event}"),
		metric.WithDescription("Exec, fork and exit events the sensor delivered."))
	execs, err2 := meter.Int64ObservableCounter(semconv.MetricExecs, metric.WithUnit("{exec}"),
		metric.WithDescription("Execs seen; their rate is the machine's exec rate."))
	lost, err3 := meter.Int64ObservableCounter(semconv.MetricLost, metric.WithUnit("{event}"),
		metric.WithDescription("Events and detections lost, by the stage that lost them."))
	pending, err4 := meter.Int64ObservableGauge(semconv.MetricRingBufferPending, metric.WithUnit("By"),
		metric.WithDescription("Bytes the kernel has queued for vigil and vigil has not read yet."))
	processes, err5 := meter.Int64ObservableGauge(semconv.MetricProcesses, metric.WithUnit("{process}"),
		metric.WithDescription("Processes in the process table."))
	evictions, err6 := meter.Int64ObservableCounter(semconv.MetricEvictions, metric.WithUnit("{process}"),
		metric.WithDescription("Processes the full process table forgot."))
	badTrace, err7 := meter.Int64ObservableCounter(semconv.MetricBadTraceparents, metric.WithUnit("{exec}"),
		metric.WithDescription("Execs whose TRACEPARENT was not valid W3C trace context, and was ignored."))
	seqEvictions, err8 := meter.Int64ObservableCounter(semconv.MetricSequenceEvictions, metric.WithUnit("{sequence}"),
		metric.WithDescription("Sequences begun that sequence recipes forgot to keep their state within bounds."))
	evalErrors, err9 := meter.Int64ObservableCounter(semconv.MetricEvalErrors, metric.WithUnit("{evaluation}"),
		metric.WithDescription("Evaluations of recipes' expressions that failed at run time, and so did not match."))
	if err := errors.Join(err1, err2, err3, err4, err5, err6, err7, err8, err9); err != nil {
		return fmt.Errorf("self-metrics: %w", err)
	}
	stage := func(name string) metric.ObserveOption {
		return metric.WithAttributes(semconv.VigilLossStageKey.String(name))
	}
	_, err = meter.RegisterCallback(func(_ context.Context, o metric.Observer) error {
		st, err := p.sensor.Stats()
		if err != nil {
			return err
		}
		exp := p.exporter.Stats()
		o.ObserveInt64(events, int64(st.Events))
		o.ObserveInt64(execs, int64(p.execs.Load()))
		for name, n := range losses(st, p.emitErrors.Load()+exp.Failed, exp.SpansFailed) {
			o.ObserveInt64(lost, int64(n), stage(name))
		}
		o.ObserveInt64(pending, int64(p.sensor.Pending()))
		o.ObserveInt64(processes, p.tableSize.Load())
		o.ObserveInt64(evictions, p.tableEvictions.Load())
		o.ObserveInt64(badTrace, p.badTraceparents.Load())
		o.ObserveInt64(seqEvictions, p.sequenceEvictions.Load())
		o.ObserveInt64(evalErrors, p.evalErrors.Load())
		return nil
	}, events, execs, lost, pending, processes, evictions, badTrace, seqEvictions, evalErrors)
	if err != nil {
		return fmt.Errorf("self-metrics callback: %w", err)
	}
	return nil
}

// countDetection adds one detection of r to its metric.
func (p *Pipeline) countDetection(r *recipe.Recipe) {
	p.detectionCount.Add(context.Background(), 1, metric.WithAttributeSet(attribute.NewSet(
		semconv.SecurityRuleNameKey.String(r.Name),
		semconv.VigilRecipeImportanceKey.String(r.Importance.String()),
	)))
}

// losses says what was lost where: by the values of vigil.loss.stage, the
// sensor's losses, the detections not exported and the spans not
// exported. The metric and the summary both read it.
func losses(st sensor.Stats, export, spanExport uint64) map[string]uint64 {
	return map[string]uint64{
		"ring_buffer": st.RingBufferDrops,
		"filter":      st.TrackDrops,
		"scratch":     st.ScratchBusyDrops,
		"decode":      st.DecodeErrors,
		"export":      export,
		"span_export": spanExport,
	}
}
