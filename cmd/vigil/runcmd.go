// The command line of vigil run: its options, flags and exit statuses.
// run.go does the run.

package main

import (
	"errors"
	"fmt"
	"io"
	"slices"
	"time"

	"github.com/spf13/cobra"

	"github.com/vigil-otel/vigil/health"
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
	checkFlag(f, "stop-timeout", func() error { return checkStopTimeout(opts.stopTimeout) })
	checkFlag(f, "health-addr", func() error {
		if opts.healthAddr == "" {
			return nil
		}
		return health.CheckAddress(opts.healthAddr)
	})
	f.StringVar(&opts.stateDir, "state-dir", "", "keep what the OTLP receiver has not taken in a spool under `DIR`, sent when it is back and at the next start (default "+defaultStateDir+" when watching the machine, none when watching a command; \"\" for none)")
	return cmd
}

// checkStopTimeout checks --stop-timeout: a stop with no time would give
// up at once what waits to be delivered. (The file's stop_timeout of 0 is
// one it does not give.)
func checkStopTimeout(d time.Duration) error {
	if d <= 0 {
		return errors.New("want more than 0s")
	}
	return nil
}
