package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"runtime"
	"runtime/debug"
	"syscall"
	"time"

	oteltrace "go.opentelemetry.io/otel/trace"

	"github.com/vigil-otel/vigil/internal/safefile"
	"github.com/vigil-otel/vigil/pipeline"
	"github.com/vigil-otel/vigil/recipe"
	"github.com/vigil-otel/vigil/report"
	"github.com/vigil-otel/vigil/sensor"
)

// runWatch runs the pipeline over the whole machine, or over command and
// its descendants when command is not empty.
func runWatch(ctx context.Context, opts runOptions, command []string, stdout, stderr io.Writer) error {
	fail := func(err error) error {
		if len(command) > 0 {
			return &exitError{code: exitVigilFailed, err: err}
		}
		return err
	}
	// Watching the machine, vigil keeps what the receiver has not taken
	// across an outage and a restart; a watched command's run is over
	// when it ends, and its CI machine often gone with it.
	if !opts.stateDirSet && len(command) == 0 {
		opts.stateDir = defaultStateDir
	}
	// One goroutine does nearly all of vigil's work; on a machine busy with
	// execs, more Ps only add scheduler wake-ups, which cost 2-3 times the
	// CPU (bench/README.md). GOMAXPROCS in the environment still decides.
	if os.Getenv("GOMAXPROCS") == "" {
		runtime.GOMAXPROCS(1)
	}
	var failOn recipe.Importance
	if opts.failOn != "" {
		var err error
		if failOn, err = recipe.ParseImportance(opts.failOn); err != nil {
			return fail(fmt.Errorf("--fail-on: %w", err))
		}
	}
	reports, err := opts.reports.resolve(len(command) > 0)
	if err != nil {
		return fail(err)
	}
	recipes, _, err := loadRecipes(opts.recipeDirs, opts.allowUntrustedRecipes)
	if err != nil {
		return fail(err)
	}

	features, err := checkKernel(recipes)
	if err != nil {
		return fail(err)
	}

	cfg, closeOutput, err := opts.pipelineConfig(stdout, stderr)
	if err != nil {
		return fail(err)
	}
	defer closeOutput()
	health, err := startHealth(opts.healthAddr, &cfg.Exporter)
	if err != nil {
		return fail(err)
	}
	// The report is built as detections are made, from what every output
	// receives; without a report to write, it only counts, for --fail-on;
	// with neither, it is not fed at all: reading back every detection
	// would be most of what a detection costs.
	listed := 0
	if len(reports) == 0 {
		listed = -1
	}
	rep := report.New(listed)
	if len(reports) > 0 || failOn != 0 {
		cfg.Exporter.Report = rep.Lines()
	}
	cfg.Sensor = sensor.Config{ArgsMax: opts.argsMax, RingBufferSize: opts.ringBufferSize, WakeupInterval: opts.wakeupInterval, Features: features}
	cfg.Recipes = recipes
	cfg.ProcRoot = opts.procRoot
	if len(opts.extraEnv) > 0 {
		cfg.Sensor.Env = append(sensor.DefaultEnv(), opts.extraEnv...)
	}
	if opts.record != "" {
		// A raw recording holds every secret that passed: its owner's alone.
		mode := opts.outputMode
		if opts.recordRaw {
			mode = safefile.DefaultMode
		}
		f, err := createOutput("--record", opts.record, safefile.Options{Mode: mode})
		if err != nil {
			return fail(err)
		}
		defer f.Close()
		rec := bufio.NewWriterSize(f, 256<<10)
		defer rec.Flush()
		cfg.Record, cfg.RecordRaw = rec, opts.recordRaw
	}
	if len(command) > 0 {
		cfg.Sensor.Follow = uint32(os.Getpid())
	}
	// Signals are caught from before vigil says it watches: a stop or a
	// reload sent as soon as the pid file is there must not kill it
	// unflushed. Watching the machine, SIGINT and SIGTERM end the run and
	// SIGHUP reloads the recipes; watching a command, they all go to it.
	stopSignals, hup := make(chan os.Signal, 1), make(chan os.Signal, 1)
	forward := make(chan os.Signal, 4)
	if len(command) > 0 {
		signal.Notify(forward, os.Interrupt, syscall.SIGTERM, syscall.SIGHUP, syscall.SIGQUIT)
		defer signal.Stop(forward)
		hup = nil
	} else {
		signal.Notify(stopSignals, os.Interrupt, syscall.SIGTERM)
		signal.Notify(hup, syscall.SIGHUP)
		defer signal.Stop(stopSignals)
		defer signal.Stop(hup)
	}
	rep.Start = time.Now()
	p, err := pipeline.Start(ctx, cfg)
	if err != nil {
		return fail(err)
	}
	// The pipeline compiled what it runs: the recipes as read, with their
	// pages and tests, need not stay in memory, nor what reading and
	// compiling them took, which the runtime would otherwise hand back to
	// the system only minutes later.
	loaded := len(recipes)
	reloads := newReloader(opts.recipeDirs, opts.allowUntrustedRecipes, recipes)
	cfg.Recipes = nil
	debug.FreeOSMemory()
	health.watching(p)
	removePIDFile, err := opts.daemon.announce()
	defer removePIDFile()
	if err != nil {
		_, _ = p.Stop(context.WithoutCancel(ctx))
		return fail(err)
	}
	// Watching starts before the command or the machine is watched, so
	// that no change made after vigil says it watches is missed.
	var watcher *recipe.Watcher
	if len(opts.recipeDirs) > 0 {
		if watcher, err = recipe.NewWatcher(opts.recipeDirs); err != nil {
			slog.Warn("recipe files are not watched; SIGHUP still reloads them", "error", err)
		}
	}
	reloadCtx, stopReload := context.WithCancel(ctx)
	defer stopReload()
	go reloads.run(reloadCtx, p, watcher, hup)

	var status error
	if len(command) > 0 {
		slog.Debug("watching the command", "recipes", loaded, "command", safeCommand(cfg.Redactor, command))
		var trace oteltrace.TraceID
		trace, status = runTraced(ctx, p, command, forward, stdout, stderr)
		if trace.IsValid() {
			rep.TraceID = trace.String()
		}
		code := 0
		if ee, ok := status.(*exitError); ok {
			code = ee.code
		}
		rep.ExitCode = &code
	} else {
		slog.Info("watching the machine until SIGINT or SIGTERM", "recipes", loaded)
		// A pipeline that no longer reads events would leave vigil running
		// blind: it stops, and Stop returns why.
		select {
		case <-stopSignals:
		case <-ctx.Done():
		case <-p.Done():
		}
	}

	notify("STOPPING=1")
	flushCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), opts.stopTimeout)
	defer cancel()
	health.stopping()
	sum, err := p.Stop(flushCtx)
	health.close(flushCtx)
	rep.End = time.Now()
	printSummary(stderr, sum)
	if err != nil {
		return fail(err)
	}
	completeReport(rep, sum, command, cfg.Redactor)
	// Each detection carries the importance it was made with, so a recipe
	// reloaded since with another importance does not change the verdict.
	var policy *report.Policy
	if failOn != 0 {
		policy = rep.Apply(failOn)
	}
	if err := writeReports(rep, reports, opts.outputMode); err != nil {
		// The command's own failure wins over vigil's.
		if status == nil {
			return fail(err)
		}
		slog.Error("reports not written", "error", err)
	}
	if status == nil && policy != nil && policy.Violated {
		fmt.Fprintf(stderr, "vigil: %s\n", policy)
		return &exitError{code: exitFailOn}
	}
	return status
}
