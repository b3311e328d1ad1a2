// Package pipeline connects vigil's stages in the order of the data flow:
// the sensor's events update the process table, each exec is matched
// against the recipes, and each match goes to the exporter as a detection.
package pipeline

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"

	"github.com/vigil-otel/vigil/describe"
	"github.com/vigil-otel/vigil/event"
	"github.com/vigil-otel/vigil/exporter"
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
	// object per line: the recording `vigil replay` reads.
	Record io.Writer
}

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
	// EvalErrorTotal counts the times the recipes' expressions failed at
	// run time, and EvalErrors breaks it down by recipe, since the recipes
	// were last loaded.
	EvalErrorTotal uint64
	EvalErrors     map[string]uint64
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
	// retiredEvictions are the sequence evictions of the engines that
	// reloads replaced; only the reader goroutine uses it.
	retiredEvictions uint64
	record           *json.Encoder
	// recordErr is the first error writing the recording.
	recordErr error
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
	badTraceparents   atomic.Int64
	detectionCount    metric.Int64Counter
	stop              context.CancelFunc
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
		p.record = json.NewEncoder(cfg.Record)
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
	p := &Pipeline{
		table:        table,
		exporter:     exp,
		describe:     execDescriber{Describer: d},
		engine:       recipe.NewEngine(cfg.Recipes),
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

// reload is a new set of recipes and when it takes effect.
type reload struct {
	engine *recipe.Engine
	since  time.Time
}

// SetRecipes replaces the recipes for the execs that happen from now on;
// those already in the ring are matched against the old ones. No event is
// lost in between. The report limits start afresh.
func (p *Pipeline) SetRecipes(recipes []*recipe.Recipe) {
	e := recipe.NewEngine(recipes)
	p.mu.Lock()
	defer p.mu.Unlock()
	p.reloads = append(p.reloads, reload{engine: e, since: time.Now()})
	p.pending.Store(true)
}

// applyReloads moves to the newest engine loaded before the exec at t.
func (p *Pipeline) applyReloads(t time.Time) {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := 0
	for n < len(p.reloads) && !t.Before(p.reloads[n].since) {
		p.retiredEvictions += p.engine.Evicted()
		p.retiredEvalErrors += p.engine.EvalErrorCount()
		p.engine = p.reloads[n].engine
		n++
	}
	p.reloads = p.reloads[n:]
	p.pending.Store(len(p.reloads) > 0)
}

// handle takes one event through the process table and the recipes.
func (p *Pipeline) handle(ev *event.Event) {
	if p.record != nil && p.recordErr == nil {
		p.recordErr = p.record.Encode(ev)
	}
	proc := p.table.Apply(ev)
	p.tableSize.Store(int64(p.table.Len()))
	p.tableEvictions.Store(int64(p.table.Evictions()))
	switch ev.Kind {
	case event.KindExit:
		p.spans.Exit(proc, ev.Time)
		return
	case event.KindExec:
	default:
		return
	}
	p.execs.Add(1)
	p.badTraceparents.Store(int64(p.table.BadTraceparents()))
	p.describe.begin(ev)
	p.spans.Exec(proc, ev)
	if p.pending.Load() {
		p.applyReloads(ev.Time)
	}
	p.matches = p.engine.Match(&recipe.Input{Event: ev, Process: proc, Processes: p.table}, p.matches[:0])
	p.sequenceEvictions.Store(int64(p.retiredEvictions + p.engine.Evicted()))
	p.evalErrors.Store(int64(p.retiredEvalErrors + p.engine.EvalErrorCount()))
	if len(p.matches) == 0 {
		return
	}
	ancestors := p.table.Ancestry(proc, maxAncestry)
	p.spans.Detected(proc, ancestors, len(p.matches))
	ctx := p.spans.Context(context.Background(), proc)
	chain := ancestors
	if i := slices.IndexFunc(ancestors, func(a *proctable.Process) bool { return a.PID == p.follow }); p.follow != 0 && i >= 0 {
		chain = ancestors[:i]
	}
	ex := p.describe.Exec(proc, ev)
	for _, hit := range p.matches {
		r := hit.Recipe
		rec := p.describe.Detection(hit, proc, ex, chain)
		if err := p.exporter.Emit(ctx, &rec); err != nil {
			p.emitErrors.Add(1)
			continue
		}
		p.detections.Add(1)
		p.byRecipe[r.Name]++
		p.byImportance[r.Importance]++
		if p.detectionCount != nil {
			p.countDetection(r)
		}
	}
}

// maxAncestry bounds how far up a detection is counted in spans, and
// described.
const maxAncestry = 64

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
	// A backend that is down, slow or without a pipeline for one signal
	// is no failure of vigil's, nor of a command it watches: what it did
	// not take is counted in the summary, and said here.
	if err := p.exporter.Shutdown(ctx); err != nil {
		slog.Warn("telemetry not delivered at the end; the summary counts the detections and spans lost", "error", err)
	}
	stats, statsErr := p.sensor.Stats()
	closeErr := p.sensor.Close()
	sum := p.summary(stats)
	if p.recordErr != nil {
		p.recordErr = fmt.Errorf("write recording: %w", p.recordErr)
	}
	var stopErr error
	if err := errors.Join(statsErr, closeErr, p.recordErr); err != nil {
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
		EvalErrorTotal:    uint64(p.evalErrors.Load()),
	}
	if p.sensor != nil {
		sum.Pending = p.sensor.Pending()
	}
	return sum
}
