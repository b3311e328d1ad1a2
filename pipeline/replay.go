package pipeline

import (
	"context"
	"errors"
	"io"
	"time"

	"github.com/vigil-otel/vigil/exporter"
	"github.com/vigil-otel/vigil/proctable"
	"github.com/vigil-otel/vigil/sensor"
)

// Replay takes recorded events (one JSON object per line, as Config.Record
// writes them) through the process table, the recipes and the exporter,
// with no sensor and no procfs: it needs no privileges. cfg.Sensor and
// cfg.ProcRoot are not used.
func Replay(ctx context.Context, cfg Config, r io.Reader) (Summary, error) {
	table, err := proctable.New("", cfg.TableCapacity)
	if err != nil {
		return Summary{}, err
	}
	exp, err := exporter.New(ctx, cfg.Exporter)
	if err != nil {
		return Summary{}, err
	}
	p, err := newPipeline(table, exp, cfg)
	if err != nil {
		return Summary{}, errors.Join(err, exp.Shutdown(ctx))
	}
	events, readErr := readRecording(ctx, r, p.handle)
	p.spans.EndAll(time.Now())
	flushErr := exp.Shutdown(ctx)
	sum := p.summary(sensor.Stats{Events: events})
	return sum, errors.Join(readErr, flushErr)
}
