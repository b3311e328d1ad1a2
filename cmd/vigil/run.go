package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"maps"
	"os"
	"os/exec"
	"os/signal"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"go.opentelemetry.io/contrib/propagators/envcar"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/resource"
	oteltrace "go.opentelemetry.io/otel/trace"
	"golang.org/x/sys/unix"

	"github.com/vigil-otel/vigil/cicontext"
	"github.com/vigil-otel/vigil/config"
	"github.com/vigil-otel/vigil/exporter"
	"github.com/vigil-otel/vigil/internal/execenv"
	"github.com/vigil-otel/vigil/pipeline"
	"github.com/vigil-otel/vigil/recipe"
	"github.com/vigil-otel/vigil/redact"
	"github.com/vigil-otel/vigil/report"
	"github.com/vigil-otel/vigil/semconv"
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

// flushTimeout bounds how long vigil waits at exit for detections to reach
// their destinations.
const flushTimeout = 15 * time.Second

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
}

// apply fills in opts from file where the command line is silent.
func (opts *runOptions) apply(fs *pflag.FlagSet, file *config.File) {
	opts.output.apply(fs, file)
	applyRecipes(fs, file, &opts.recipeDirs)
	if file.Record != "" && !fs.Changed("record") {
		opts.record = file.Record
	}
	if file.Sensor.ArgsMax != 0 && !fs.Changed("args-max") {
		opts.argsMax = file.Sensor.ArgsMax
	}
	if file.Sensor.RingBufferSize != 0 && !fs.Changed("ring-buffer-size") {
		opts.ringBufferSize = file.Sensor.RingBufferSize
	}
	if file.Sensor.WakeupInterval != 0 && !fs.Changed("wakeup-interval") {
		opts.wakeupInterval = file.Sensor.WakeupInterval
	}
	opts.extraEnv = file.Sensor.Env
	if file.Sensor.ProcRoot != "" && !fs.Changed("proc-root") {
		opts.procRoot = file.Sensor.ProcRoot
	}
	if file.HealthAddress != "" && !fs.Changed("health-addr") {
		opts.healthAddr = file.HealthAddress
	}
}

// output says where detections go; run and replay share it.
type output struct {
	jsonl        string
	otlp         bool
	otlpEndpoint string
	spans        exporter.SpanMode
	// The rest has no flag: it comes from the configuration file.
	otlpSettings       exporter.OTLPSettings
	serviceName        string
	resourceAttributes map[string]string
	redaction          redact.Config
}

func (o *output) flags(f *pflag.FlagSet) {
	f.StringVar(&o.jsonl, "jsonl", "", "write each detection as one JSON object per line to `PATH` (- for stdout)")
	f.BoolVar(&o.otlp, "otlp", false, "export detections over OTLP/gRPC even when no OTEL_EXPORTER_OTLP_* endpoint is set")
	f.StringVar(&o.otlpEndpoint, "otlp-endpoint", "", "OTLP/gRPC endpoint `URL` (http://host:4317 for plain text); implies --otlp")
	f.Var(&o.spans, "spans", "which processes that run in a trace get a span, exported with OTLP: all, those with detections and their ancestors, or none")
}

// exporterConfig resolves the outputs: OTLP when asked or configured, the
// JSON lines file, and the console when there is neither. The returned
// function closes what it opened.
func (o *output) exporterConfig(stdout, stderr io.Writer) (exporter.Config, func() error, error) {
	s := o.otlpSettings
	if o.otlpEndpoint != "" {
		// An endpoint on the command line is for every signal: those the
		// file names, per-signal ones included, give way to it.
		s.Endpoint, s.Logs.Endpoint, s.Traces.Endpoint, s.Metrics.Endpoint = o.otlpEndpoint, "", "", ""
	}
	redactor, err := o.redaction.Redactor()
	if err != nil {
		return exporter.Config{}, func() error { return nil }, fmt.Errorf("redaction rules: %w", err)
	}
	cfg := exporter.Config{
		Redactor: redactor,
		// An endpoint named anywhere, for any signal, turns OTLP on.
		OTLP: o.otlp || s.Endpoint != "" || s.Logs.Endpoint != "" || s.Traces.Endpoint != "" || s.Metrics.Endpoint != "" ||
			exporter.OTLPFromEnv(),
		OTLPSettings:       s,
		ServiceVersion:     version(),
		ServiceName:        o.serviceName,
		ResourceAttributes: o.resourceAttributes,
		Spans:              o.spans,
		Detectors: []resource.Detector{
			cicontext.CIDetector(os.Getenv),
			cicontext.ContainerDetector(os.DirFS("/proc/self"), sensor.ContainerID),
		},
	}
	closeFn := func() error { return nil }
	switch o.jsonl {
	case "":
	case "-":
		cfg.JSONL = stdout
	default:
		f, err := os.Create(o.jsonl)
		if err != nil {
			return cfg, closeFn, fmt.Errorf("open JSON lines output: %w", err)
		}
		cfg.JSONL, closeFn = f, f.Close
	}
	if cfg.JSONL == nil && !cfg.OTLP {
		cfg.Console = stderr
	}
	return cfg, closeFn, nil
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
	configFlag(cmd, &configPath)
	f := cmd.Flags()
	opts.output.flags(f)
	opts.reports.flags(f)
	opts.daemon.flags(f)
	f.StringArrayVar(&opts.recipeDirs, "recipes", nil, "also load the recipe files of `DIR` (repeatable), reloaded on SIGHUP and when they change; they override built-ins of the same name")
	f.StringVar(&opts.record, "record", "", "write every event the sensor reports to `PATH`, one JSON object per line, for vigil replay")
	f.IntVar(&opts.argsMax, "args-max", sensor.DefaultArgsMax, fmt.Sprintf("bytes of argv kept per exec, at most %d", sensor.MaxArgsMax))
	f.IntVar(&opts.ringBufferSize, "ring-buffer-size", 8<<20, "size in bytes of the kernel-to-vigil ring buffer, a power of two")
	f.StringVar(&opts.failOn, "fail-on", "", "exit 3 when a detection of `IMPORTANCE` (low, medium, high or critical) or higher happened and the command succeeded")
	f.StringVar(&opts.healthAddr, "health-addr", "", "serve /healthz, /readyz and /metrics (Prometheus) on `ADDR` (host:port); off by default")
	f.StringVar(&opts.procRoot, "proc-root", "/proc", "where the host's procfs is mounted (`DIR`): /host/proc for vigil in a container that sees the host through a mount")
	f.DurationVar(&opts.wakeupInterval, "wakeup-interval", sensor.DefaultWakeupInterval, "longest wait of a record in the ring buffer before vigil is woken for it; shorter reports sooner and costs more CPU")
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
	recipes, errs := recipe.LoadCatalog(opts.recipeDirs)
	for _, err := range errs {
		slog.Error("recipe error", "error", err)
	}

	features, err := checkKernel(recipes)
	if err != nil {
		return fail(err)
	}

	expCfg, closeOutput, err := opts.exporterConfig(stdout, stderr)
	if err != nil {
		return fail(err)
	}
	defer closeOutput()
	health, err := startHealth(opts.healthAddr, &expCfg)
	if err != nil {
		return fail(err)
	}
	// The report is built as detections are made, from what every output
	// receives; without a report to write, it only counts, for --fail-on.
	listed := 0
	if len(reports) == 0 {
		listed = -1
	}
	rep := report.New(listed)
	expCfg.Report = rep.Lines()

	cfg := pipeline.Config{
		Sensor:   sensor.Config{ArgsMax: opts.argsMax, RingBufferSize: opts.ringBufferSize, WakeupInterval: opts.wakeupInterval, Features: features},
		Recipes:  recipes,
		Exporter: expCfg,
		ProcRoot: opts.procRoot,
	}
	if len(opts.extraEnv) > 0 {
		cfg.Sensor.Env = append(sensor.DefaultEnv(), opts.extraEnv...)
	}
	if opts.record != "" {
		f, err := os.Create(opts.record)
		if err != nil {
			return fail(fmt.Errorf("open recording: %w", err))
		}
		defer f.Close()
		rec := bufio.NewWriterSize(f, 256<<10)
		defer rec.Flush()
		cfg.Record = rec
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
	go reloadRecipes(reloadCtx, p, opts.recipeDirs, watcher, hup)

	var status error
	if len(command) > 0 {
		slog.Debug("watching the command", "recipes", len(recipes), "command", command)
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
		slog.Info("watching the machine until SIGINT or SIGTERM", "recipes", len(recipes))
		// A pipeline that no longer reads events would leave vigil running
		// blind: it stops, and Stop returns why.
		select {
		case <-stopSignals:
		case <-ctx.Done():
		case <-p.Done():
		}
	}

	notify("STOPPING=1")
	flushCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), flushTimeout)
	defer cancel()
	health.stopping()
	sum, err := p.Stop(flushCtx)
	health.close(flushCtx)
	rep.End = time.Now()
	printSummary(stderr, sum)
	if err != nil {
		return fail(err)
	}
	completeReport(rep, sum, command, expCfg.Redactor)
	// Each detection carries the importance it was made with, so a recipe
	// reloaded since with another importance does not change the verdict.
	var policy *report.Policy
	if failOn != 0 {
		policy = rep.Apply(failOn)
	}
	if err := writeReports(rep, reports); err != nil {
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

// notify tells systemd of a state change; failing to is no reason to stop
// watching, and is logged.
func notify(state string) {
	if err := notifySystemd(state); err != nil {
		slog.Warn("systemd not notified", "state", state, "error", err)
	}
}

// monotonicUsec is CLOCK_MONOTONIC in microseconds, the clock systemd
// compares reload notifications against.
func monotonicUsec() int64 {
	var ts unix.Timespec
	if err := unix.ClockGettime(unix.CLOCK_MONOTONIC, &ts); err != nil {
		return 0
	}
	return ts.Nano() / 1000
}

// reloadRecipes reloads the catalog into p on each signal of hup (nil
// when SIGHUP is not vigil's) and whenever watcher (if any) sees the recipe
// files change, until ctx is done. A broken file is reported and left out;
// the rest of the catalog keeps working.
func reloadRecipes(ctx context.Context, p *pipeline.Pipeline, dirs []string, watcher *recipe.Watcher, hup <-chan os.Signal) {
	changed := make(chan struct{}, 1)
	if watcher != nil {
		go watcher.Run(ctx, func() {
			select {
			case changed <- struct{}{}:
			default:
			}
		})
	}
	for {
		select {
		case <-ctx.Done():
			return
		case <-hup:
		case <-changed:
		}
		// systemd (Type=notify-reload, or ExecReload with Type=notify)
		// hears of the reload; a monotonic time stamps it as sd_notify asks.
		notify(fmt.Sprintf("RELOADING=1\nMONOTONIC_USEC=%d", monotonicUsec()))
		recipes, errs := recipe.LoadCatalog(dirs)
		for _, err := range errs {
			slog.Error("recipe error", "error", err)
		}
		p.SetRecipes(recipes)
		slog.Info("recipes reloaded", "recipes", len(recipes), "errors", len(errs))
		notify("READY=1")
	}
}

// runTraced runs the watched command in a span of its own: a child of the
// trace context in vigil's environment (TRACEPARENT, TRACESTATE), or the
// root of a new trace. The command gets that span's context in its
// environment, so that its whole process tree lands in one trace.
func runTraced(ctx context.Context, p *pipeline.Pipeline, command []string, signals <-chan os.Signal, stdout, stderr io.Writer) (oteltrace.TraceID, error) {
	prop := propagation.TraceContext{}
	ctx, span := p.StartRun(prop.Extract(ctx, &envcar.Carrier{}), command)
	env := slices.DeleteFunc(os.Environ(), func(kv string) bool {
		return strings.HasPrefix(kv, execenv.TraceParent+"=") || strings.HasPrefix(kv, execenv.TraceState+"=")
	})
	prop.Inject(ctx, &envcar.Carrier{SetEnvFunc: func(k, v string) { env = append(env, k+"="+v) }})

	status := runCommand(command, env, signals, stdout, stderr)
	code := 0
	if ee, ok := status.(*exitError); ok {
		code = ee.code
	}
	span.SetAttributes(semconv.ProcessExitCodeKey.Int(code))
	if code != 0 {
		span.SetStatus(codes.Error, fmt.Sprintf("exit code %d", code))
	}
	span.End()
	return span.SpanContext().TraceID(), status
}

// runCommand runs the watched command with env to its end and returns its
// status as an *exitError (nil for status 0). The signals vigil receives
// meanwhile (signals) go to the command, which decides when the run ends.
func runCommand(command, env []string, signals <-chan os.Signal, stdout, stderr io.Writer) error {
	cmd := exec.Command(command[0], command[1:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, stdout, stderr
	cmd.Env = env

	if err := cmd.Start(); err != nil {
		// As a shell says it: 127 for a command not found, 126 for one
		// found and not run.
		code := 126
		if errors.Is(err, exec.ErrNotFound) || errors.Is(err, fs.ErrNotExist) {
			code = 127
		}
		return &exitError{code: code, err: fmt.Errorf("start %s: %w", command[0], err)}
	}
	waited := make(chan error, 1)
	go func() { waited <- cmd.Wait() }()
	for {
		select {
		case sig := <-signals:
			_ = cmd.Process.Signal(sig)
		case err := <-waited:
			var ee *exec.ExitError
			switch {
			case err == nil:
				return nil
			case errors.As(err, &ee):
				return &exitError{code: exitCode(ee.ProcessState)}
			default:
				return &exitError{code: exitVigilFailed, err: fmt.Errorf("wait for %s: %w", command[0], err)}
			}
		}
	}
}

// exitCode returns a finished process's status as a shell reports it:
// 128+N when signal N ended it.
func exitCode(ps *os.ProcessState) int {
	if ws, ok := ps.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return 128 + int(ws.Signal())
	}
	return ps.ExitCode()
}

// printSummary writes what the run counted: the counts of
// pipeline.Counters, then the breakdowns.
func printSummary(w io.Writer, s pipeline.Summary) {
	fmt.Fprintf(w, "vigil: %s\n", countLine(s))
	if secs := s.Duration.Seconds(); s.Execs > 0 && secs > 0 {
		fmt.Fprintf(w, "vigil: execs %d in %s (%.1f/s)\n", s.Execs, s.Duration.Round(time.Millisecond), float64(s.Execs)/secs)
	}
	if s.Detections > 0 {
		var levels []string
		for _, imp := range []recipe.Importance{recipe.Critical, recipe.High, recipe.Medium, recipe.Low} {
			if n := s.ByImportance[imp]; n > 0 {
				levels = append(levels, fmt.Sprintf("%s %d", imp, n))
			}
		}
		fmt.Fprintf(w, "vigil: detections by importance: %s; by recipe: %s\n", strings.Join(levels, ", "), countList(s.ByRecipe))
	}
	if len(s.Suppressed) > 0 {
		fmt.Fprintf(w, "vigil: matches held back by report limits: %s\n", countList(s.Suppressed))
	}
	if len(s.EvalErrors) > 0 {
		fmt.Fprintf(w, "vigil: recipe expressions that failed at run time, and did not match: %s\n", countList(s.EvalErrors))
	}
}

// countLine writes the counts of pipeline.Counters that have a label:
// what was seen, then what was lost, with its total and by what, then
// what was degraded. "events 10, detections 1; lost 0 (ring buffer full
// 0); process table evictions 0".
func countLine(s pipeline.Summary) string {
	var seen, lost, degraded []string
	for _, c := range pipeline.Counters() {
		if c.Label == "" {
			continue
		}
		part := fmt.Sprintf("%s %d", c.Label, c.Value(s))
		switch c.Kind {
		case pipeline.Seen:
			seen = append(seen, part)
		case pipeline.Lost:
			lost = append(lost, part)
		case pipeline.Degraded:
			degraded = append(degraded, part)
		}
	}
	parts := []string{strings.Join(seen, ", "), fmt.Sprintf("lost %d (%s)", s.Lost(), strings.Join(lost, ", "))}
	return strings.Join(append(parts, degraded...), "; ")
}

// countList writes counts by name, names sorted: "a 1, b 2".
func countList(counts map[string]uint64) string {
	names := slices.Sorted(maps.Keys(counts))
	parts := make([]string, len(names))
	for i, n := range names {
		parts[i] = fmt.Sprintf("%s %d", n, counts[n])
	}
	return strings.Join(parts, ", ")
}
