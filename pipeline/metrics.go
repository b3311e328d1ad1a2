package pipeline

import (
	"context"
	"errors"
	"fmt"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"

	"github.com/vigil-otel/vigil/recipe"
	"github.com/vigil-otel/vigil/semconv"
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
	if err := errors.Join(err1, err2, err3, err4, err5, err6, err7); err != nil {
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
		o.ObserveInt64(lost, int64(st.RingBufferDrops), stage("ring_buffer"))
		o.ObserveInt64(lost, int64(st.TrackDrops), stage("filter"))
		o.ObserveInt64(lost, int64(st.ScratchBusyDrops), stage("scratch"))
		o.ObserveInt64(lost, int64(st.DecodeErrors), stage("decode"))
		o.ObserveInt64(lost, int64(p.emitErrors.Load()+exp.Failed), stage("export"))
		o.ObserveInt64(lost, int64(exp.SpansFailed), stage("span_export"))
		o.ObserveInt64(pending, int64(p.sensor.Pending()))
		o.ObserveInt64(processes, p.tableSize.Load())
		o.ObserveInt64(evictions, p.tableEvictions.Load())
		o.ObserveInt64(badTrace, p.badTraceparents.Load())
		return nil
	}, events, execs, lost, pending, processes, evictions, badTrace)
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
