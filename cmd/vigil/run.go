package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"runtime"
	"runtime/debug"
	"slices"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	oteltrace "go.opentelemetry.io/otel/trace"

	"github.com/vigil-otel/vigil/internal/safefile"
	"github.com/vigil-otel/vigil/pipeline"
	"github.com/vigil-otel/vigil/recipe"
	"github.com/vigil-otel/vigil/report"
	"github.com/vigil-otel/vigil/sensor"
)

// exitVigilFailed is the status of `vigil run -- CMD` when vigil itself
// failed, as env(1) and container runtimes use it, so that it is not
// mistaken for the command's own status.
const exitVigilFailed = 125

// exitFailOn is the status of vigil run when --fail-on decided it: a
// detection at or above the importance it names happened, and the watched
// command, if any, succeeded (its own failure status wins).
const exitFailOn = 3

// defaultStopTimeout bounds how long vigil takes to stop: to drain the
// ring buffer and deliver what waits, before it keeps the rest in the
// spool.
const defaultStopTimeout = 15 * time.Second

// defaultStateDir holds the spool of vigil watching the machine.
const defaultStateDir = "/var/lib/vigil"

type runOptions struct {
	output
	reports        reportOptions
	daemon         daemonOptions
	recipeDirs     []string
	record         string
	argsMax        int
	ringBufferSize int
	wakeupInterval time.Duration
	// failOn, when set, is the lowest importance of a detection that makes
	// the run fail (--fail-on).
	failOn string
	// extraEnv names environment variables the sensor reads besides the
	// default ones (configuration file only).
	extraEnv []string
	// procRoot is where the host's procfs is mounted (--proc-root).
	procRoot string
	// healthAddr, when set, is where the health endpoint listens
	// (--health-addr).
	healthAddr string
	// stopTimeout bounds the stop (--stop-timeout).
	stopTimeout time.Duration
	// allowUntrustedRecipes loads recipeDirs even when another user could
	// change them (--allow-untrusted-recipes).
	allowUntrustedRecipes bool
	// recordRaw keeps the recording unredacted (--record-raw).
	recordRaw bool
}

func newRunCommand(vigilArgs []string, stdout, stderr io.Writer) *cobra.Command {
	var (
		opts       runOptions
		configPath string
	)
	cmd := &cobra.Command{
		Use:   "run [flags] [-- COMMAND [ARGS...]]",
		Short: "Watch the whole machine, or one command and its descendants",
		Long: `Without a command, vigil run watches every exec on the machine until it
receives SIGINT or SIGTERM, then flushes its detections and exits 0.

With a command after --, vigil run starts it, watches only it and its
descendants, flushes, and exits with the command's exit status (125 when
vigil itself fails). A Collector that is down or refuses a signal never
changes that status: what was not delivered is counted in the summary.

--fail-on IMPORTANCE makes the run exit 3 when a detection of that
importance or higher happened and the command succeeded, and says which
detections decided it.

Detections go to OTLP/gRPC when OTEL_EXPORTER_OTLP_ENDPOINT (or a
per-signal OTEL_EXPORTER_OTLP_*_ENDPOINT) is set, the configuration file
names an endpoint, or --otlp is given; to a JSON lines file with --jsonl;
and otherwise to stderr, one readable line each.

Settings come from flags, then the --config file, then the environment:
see docs/configuration.md.`,
		Args: cobra.ArbitraryArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if dash := cmd.ArgsLenAtDash(); dash > 0 || dash < 0 && len(args) > 0 {
				return fmt.Errorf("unexpected argument %q: put the command to watch after --", args[0])
			}
			file, err := loadConfig(cmd, configPath)
			if err != nil {
				if len(args) > 0 {
					return &exitError{code: exitVigilFailed, err: err}
				}
				return err
			}
			opts.apply(cmd.Flags(), file)
			if opts.daemon.detach {
				if len(args) > 0 {
					return &exitError{code: exitVigilFailed, err: errors.New("--detach watches the machine: it takes no command")}
				}
				return detach(vigilArgs, opts.daemon, stderr)
			}
			return runWatch(cmd.Context(), opts, args, stdout, stderr)
		},
	}
	// A flag refused fails vigil, whose status, watching a command, is
	// not to be mistaken for the command's.
	cmd.SetFlagErrorFunc(func(cmd *cobra.Command, err error) error {
		if err = flagError(cmd, err); slices.Contains(vigilArgs, "--") {
			return &exitError{code: exitVigilFailed, err: err}
		}
		return err
	})
	configFlag(cmd, &configPath)
	f := cmd.Flags()
	opts.output.flags(f)
	opts.reports.flags(f)
	opts.daemon.flags(f)
	recipesFlag(f, &opts.recipeDirs, "also load the recipe files of `DIR` (repeatable), reloaded on SIGHUP and when they change; they override built-ins of the same name")
	untrustedRecipesFlag(f, &opts.allowUntrustedRecipes)
	f.StringVar(&opts.record, "record", "", "write every event the sensor reports to `PATH`, one JSON object per line, for vigil replay; what processes control in it is redacted")
	f.BoolVar(&opts.recordRaw, "record-raw", false, "write the recording's command lines, paths and environment values unredacted; the file is then created 0600 whatever --output-mode says")
	f.IntVar(&opts.argsMax, "args-max", sensor.DefaultArgsMax, fmt.Sprintf("bytes of argv kept per exec, at most %d", sensor.MaxArgsMax))
	f.IntVar(&opts.ringBufferSize, "ring-buffer-size", 8<<20, "size in bytes of the kernel-to-vigil ring buffer, a power of two")
	failOnFlag(f, &opts.failOn, "exit 3 when a detection of `IMPORTANCE` (low, medium, high or critical) or higher happened and the command succeeded")
	f.StringVar(&opts.healthAddr, "health-addr", "", "serve /healthz, /readyz and /metrics (Prometheus) on `ADDR` (host:port); off by default")
	f.StringVar(&opts.procRoot, "proc-root", "/proc", "where the host's procfs is mounted (`DIR`): /host/proc for vigil in a container that sees the host through a mount")
	f.DurationVar(&opts.wakeupInterval, "wakeup-interval", sensor.DefaultWakeupInterval, "longest wait of a record in the ring buffer before vigil is woken for it, at most 1m; shorter reports sooner and costs more CPU")
	f.DurationVar(&opts.stopTimeout, "stop-timeout", defaultStopTimeout, "longest a stop takes to read what the kernel holds and deliver what waits; what is left goes to the spool")
	checkFlag(f, "args-max", func() error { return sensor.CheckArgsMax(opts.argsMax) })
	checkFlag(f, "ring-buffer-size", func() error { return sensor.CheckRingBufferSize(opts.ringBufferSize) })
	checkFlag(f, "wakeup-interval", func() error { return sensor.CheckWakeupInterval(opts.wakeupInterval) })
	checkFlag(f, "stop-timeout", nil)
	f.StringVar(&opts.stateDir, "state-dir", "", "keep what the OTLP receiver has not taken in a spool under `DIR`, sent when it is back and at the next start (default "+defaultStateDir+" when watching the machine, none when watching a command; \"\" for none)")
	return cmd
}

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
