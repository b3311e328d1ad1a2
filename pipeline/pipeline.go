// Package pipeline connects vigil's stages in the order of the data flow:
// the sensor's events update the process table, each exec is matched
// against the recipes, and each match goes to the exporter as a detection.
package pipeline

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"

	"github.com/vigil-otel/vigil/describe"
	"github.com/vigil-otel/vigil/exporter"
	"github.com/vigil-otel/vigil/internal/outqueue"
	"github.com/vigil-otel/vigil/proctable"
	"github.com/vigil-otel/vigil/recipe"
	"github.com/vigil-otel/vigil/redact"
	"github.com/vigil-otel/vigil/sensor"
	"github.com/vigil-otel/vigil/spans"
)

// Config holds each stage's configuration.
type Config struct {
	Sensor   sensor.Config
	Recipes  []*recipe.Recipe
	Exporter exporter.Config
	// Redactor hides secrets in what processes control (arguments, paths,
	// CI variables) before anything is reported (default:
	// redact.Default()).
	Redactor *redact.Redactor
	// Spans says which traced processes get a span (default spans.All);
	// there are none unless the exporter sends spans (Exporter.Spans).
	Spans spans.Mode
	// ProcRoot is where procfs is mounted (default "/proc").
	ProcRoot string
	// TableCapacity bounds the process table (default
	// proctable.DefaultCapacity).
	TableCapacity int
	// Record, when set, receives every event the sensor reports, one JSON
	// object per line: the recording `vigil replay` reads. What processes
	// control in it is redacted by Redactor, as in every other output
	// (describe.Describer.Event), unless RecordRaw is set.
	Record    io.Writer
	RecordRaw bool
}

// ErrClosed is returned by Stop once the pipeline is stopped, and by Err
// once Stop has ended its handling of events.
var ErrClosed = errors.New("pipeline stopped")

// Pipeline is a running sensor with its downstream stages.
type Pipeline struct {
	sensor   *sensor.Sensor
	table    *proctable.Table
	exporter *exporter.Exporter
	// describe describes each exec once, for its span and its detections;
	// only the reader goroutine uses it.
	describe execDescriber
	// spans owns the spans of the table's processes; only the reader
	// goroutine uses it, and Stop once it has ended.
	spans *spans.Owner
	// engine matches; only the reader goroutine uses it. reloads holds the
	// engines of reloads, oldest first, each until the first exec that
	// happened after it; pending says there are some.
	engine  *recipe.Engine
	mu      sync.Mutex
	reloads []reload
	pending atomic.Bool

	// follow is the process whose descendants the sensor follows (vigil
	// itself, watching a command), 0 for the whole machine. A detection's
	// chain stops below it: what ran vigil is not the command's.
	follow uint32

	// matches is reused for every exec; only the reader goroutine uses it.
	matches []recipe.Hit
	// retiredEvictions and retiredLimitEvictions are the sequence and
	// limit evictions of the engines that reloads replaced; only the
	// reader goroutine uses them.
	retiredEvictions      uint64
	retiredLimitEvictions uint64
	// recording writes the recording, nil without one; recordRaw says
	// its events are written as the sensor reported them, unredacted.
	recording *outqueue.Queue[[]byte]
	recordRaw bool
	// retiredEvalErrors are the expression failures of the engines that
	// reloads replaced; only the reader goroutine uses it.
	retiredEvalErrors uint64

	detections atomic.Uint64
	emitErrors atomic.Uint64
	// started, byRecipe and byImportance feed the summary; only the reader
	// goroutine writes the maps, and the summary reads them after it ends.
	started      time.Time
	byRecipe     map[string]uint64
	byImportance map[recipe.Importance]uint64
	// Copies of the reader goroutine's counts, which the self-metrics read
	// from another goroutine, and the summary (see counts).
	execs          atomic.Uint64
	tableSize      atomic.Int64
	tableEvictions atomic.Int64
	// sequenceEvictions mirrors, for the metrics, the sequence evictions
	// of every engine so far.
	sequenceEvictions atomic.Int64
	// limitEvictions mirrors, for the metrics, the limit evictions of
	// every engine so far.
	limitEvictions  atomic.Int64
	badTraceparents atomic.Int64
	detectionCount  metric.Int64Counter
	stop            context.CancelFunc
	// evalErrors mirrors, for the metrics, the expression failures of
	// every engine so far.
	evalErrors atomic.Int64
	// done is closed when the reader goroutine ends; readErr, written
	// before, is why: nil when Stop asked it to.
	done    chan struct{}
	readErr error
	// stopped makes Stop do its work once.
	stopped atomic.Bool
}

// Start loads and attaches the sensor, seeds the process table, and starts
// handling events. From its return on, no exec is missed.
func Start(ctx context.Context, cfg Config) (*Pipeline, error) {
	if cfg.ProcRoot == "" {
		cfg.ProcRoot = "/proc"
	}
	table, err := proctable.New(cfg.ProcRoot, cfg.TableCapacity)
	if err != nil {
		return nil, err
	}
	exp, err := exporter.New(ctx, cfg.Exporter)
	if err != nil {
		return nil, err
	}
	sens, err := sensor.New(cfg.Sensor)
	if err != nil {
		return nil, errors.Join(err, exp.Shutdown(ctx))
	}
	// Seeded once the sensor is attached: a process started in between is
	// both in procfs and in the ring.
	if err := table.Seed(); err != nil {
		return nil, errors.Join(err, sens.Close(), exp.Shutdown(ctx))
	}
	runCtx, stop := context.WithCancel(context.WithoutCancel(ctx))
	p, err := newPipeline(table, exp, cfg)
	if err != nil {
		stop()
		return nil, errors.Join(err, sens.Close(), exp.Shutdown(ctx))
	}
	p.sensor, p.stop, p.done = sens, stop, make(chan struct{})
	p.follow = cfg.Sensor.Follow
	if cfg.Record != nil {
		p.recording, p.recordRaw = newRecording(cfg.Record), cfg.RecordRaw
	}
	if err := p.observe(exp.Meter()); err != nil {
		stop()
		return nil, errors.Join(err, sens.Close(), exp.Shutdown(ctx))
	}
	go func() {
		defer close(p.done)
		if err := sens.Run(runCtx, p.handle); err != nil {
			p.readErr = fmt.Errorf("the event reader stopped: %w", err)
			if runCtx.Err() == nil {
				slog.Error("vigil no longer reads events", "error", p.readErr)
			}
		}
	}()
	return p, nil
}

// Done returns a channel that is closed when the pipeline no longer
// handles events: once Stop is called, or when reading events failed.
// Stop is to be called either way.
func (p *Pipeline) Done() <-chan struct{} {
	return p.done
}

// Err returns nil while Done is not closed. Once it is, Err says why: the
// failure of the event reader, or ErrClosed when Stop ended it.
func (p *Pipeline) Err() error {
	select {
	case <-p.done:
	default:
		return nil
	}
	if p.readErr != nil {
		return p.readErr
	}
	return ErrClosed
}

// newPipeline joins the stages downstream of the sensor.
func newPipeline(table *proctable.Table, exp *exporter.Exporter, cfg Config) (*Pipeline, error) {
	d, err := describe.New(cfg.Redactor)
	if err != nil {
		return nil, err
	}
	engine, err := recipe.NewEngine(cfg.Recipes)
	if err != nil {
		return nil, err
	}
	p := &Pipeline{
		table:        table,
		exporter:     exp,
		describe:     execDescriber{Describer: d},
		engine:       engine,
		started:      time.Now(),
		byRecipe:     make(map[string]uint64),
		byImportance: make(map[recipe.Importance]uint64),
	}
	mode := cfg.Spans
	if !exp.Tracing() {
		mode = spans.None
	}
	p.spans = spans.New(mode, exp, &p.describe, table)
	// The seeded table is counted before the first event.
	p.tableSize.Store(int64(table.Len()))
	p.tableEvictions.Store(int64(table.Evictions()))
	return p, nil
}

// Stop handles every event the kernel has already written, flushes the
// detections to their destinations, and releases the sensor. ctx bounds
// the flush. What the exporter could not deliver is counted in the
// Summary and logged, never returned: the error is vigil's own failure,
// the event reader's among them (see Err). Calls after the first do
// nothing and return ErrClosed.
func (p *Pipeline) Stop(ctx context.Context) (Summary, error) {
	if !p.stopped.CompareAndSwap(false, true) {
		return Summary{}, ErrClosed
	}
	p.stop()
	<-p.done
	p.spans.EndAll(time.Now())
	if p.recording != nil {
		if err := p.recording.Close(ctx); err != nil {
			slog.Warn("the recording was given up at the end; the summary counts the events it lost", "error", err)
		}
	}
	// A backend that is down, slow or without a pipeline for one signal
	// is no failure of vigil's, nor of a command it watches: what it did
	// not take is counted in the summary, and said here.
	if err := p.exporter.Shutdown(ctx); err != nil {
		slog.Warn("telemetry not delivered at the end; the summary counts the detections and spans lost", "error", err)
	}
	stats, statsErr := p.sensor.Stats()
	closeErr := p.sensor.Close()
	sum := p.summary(stats)
	var stopErr error
	if err := errors.Join(statsErr, closeErr); err != nil {
		stopErr = fmt.Errorf("stop pipeline: %w", err)
	}
	return sum, errors.Join(p.readErr, stopErr)
}

// StartRun starts the span of a watched command, a child of the context in
// ctx or the root of a new trace; see exporter.Exporter.StartRun.
func (p *Pipeline) StartRun(ctx context.Context, command []string) (context.Context, trace.Span) {
	name, attrs := p.describe.Run(command)
	return p.exporter.StartRun(ctx, name, attrs...)
}
