package pipeline

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/vigil-otel/vigil/event"
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
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), 4<<20)
	var events uint64
	var readErr error
	for line := 1; sc.Scan() && ctx.Err() == nil; line++ {
		if len(sc.Bytes()) == 0 {
			continue
		}
		ev := new(event.Event)
		if err := json.Unmarshal(sc.Bytes(), ev); err != nil {
			readErr = fmt.Errorf("recording line %d: %w", line, err)
			break
		}
		events++
		p.handle(ev)
	}
	if err := sc.Err(); err != nil && readErr == nil {
		readErr = fmt.Errorf("read recording: %w", err)
	}
	p.spans.EndAll(time.Now())
	flushErr := exp.Shutdown(ctx)
	sum := p.summary(sensor.Stats{Events: events})
	return sum, errors.Join(readErr, flushErr)
}
