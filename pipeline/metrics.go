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

// lostDescription describes vigil.lost, which each Lost counter of
// [Counters] reports under its stage.
const lostDescription = "Events and detections lost, by the stage that lost them."

// observe registers vigil's own metrics, one for each metric of
// [Counters]. They are read from the stages' counters when the meter
// collects, once a minute, so that the event path pays nothing for them;
// detections, rare, are counted as they happen, by recipe.
func (p *Pipeline) observe(meter metric.Meter) error {
	counters := Counters()
	instruments := make(map[string]metric.Int64Observable)
	var observed []metric.Observable
	var errs []error
	for _, c := range counters {
		if _, ok := instruments[c.Metric]; ok {
			continue
		}
		if c.Metric == semconv.MetricDetections {
			var err error
			p.detectionCount, err = meter.Int64Counter(c.Metric, metric.WithUnit(c.Unit), metric.WithDescription(c.Meaning))
			errs = append(errs, err)
			continue
		}
		desc := c.Meaning
		if c.Kind == Lost {
			desc = lostDescription
		}
		var inst metric.Int64Observable
		var err error
		if c.Gauge {
			inst, err = meter.Int64ObservableGauge(c.Metric, metric.WithUnit(c.Unit), metric.WithDescription(desc))
		} else {
			inst, err = meter.Int64ObservableCounter(c.Metric, metric.WithUnit(c.Unit), metric.WithDescription(desc))
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("metric %s: %w", c.Metric, err))
			continue
		}
		instruments[c.Metric] = inst
		observed = append(observed, inst)
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("self-metrics: %w", err)
	}
	_, err := meter.RegisterCallback(func(_ context.Context, o metric.Observer) error {
		st, err := p.sensor.Stats()
		if err != nil {
			return err
		}
		sum := p.counts(st)
		for _, c := range counters {
			if c.Metric == semconv.MetricDetections || c.Kind == Lost {
				continue
			}
			o.ObserveInt64(instruments[c.Metric], int64(c.Value(sum)))
		}
		for stage, n := range sum.Losses() {
			o.ObserveInt64(instruments[semconv.MetricLost], int64(n),
				metric.WithAttributes(semconv.VigilLossStageKey.String(stage)))
		}
		return nil
	}, observed...)
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
