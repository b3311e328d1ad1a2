// Command vigil watches every program a Linux machine executes, matches
// each exec against detection recipes, and reports matches as
// OpenTelemetry events.
package main

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"

	"github.com/spf13/cobra"
)

// exitError carries an exit status out of a command: the watched command's
// own, or vigil's when vigil itself failed.
type exitError struct {
	code int
	err  error // nil when there is nothing to print
}

func (e *exitError) Error() string {
	if e.err == nil {
		return fmt.Sprintf("exit status %d", e.code)
	}
	return e.err.Error()
}

func (e *exitError) Unwrap() error { return e.err }

func main() {
	// A write to a pipe whose reader is gone (--jsonl - into a pager that
	// quit) fails with EPIPE, which the output counts and reports once;
	// unnotified, the runtime would kill vigil for it on stdout or stderr,
	// unflushed and without a summary. Notified rather than ignored: a
	// command vigil starts gets SIGPIPE's default back, where an ignored
	// signal would stay ignored.
	signal.Notify(make(chan os.Signal, 1), syscall.SIGPIPE)
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run executes vigil with args and returns its exit status.
func run(args []string, stdout, stderr io.Writer) int {
	root := newRootCommand(args, stdout, stderr)
	root.SetArgs(args)
	err := root.Execute()
	if err == nil {
		return 0
	}
	var ee *exitError
	if errors.As(err, &ee) {
		if ee.err != nil {
			fmt.Fprintf(stderr, "vigil: %v\n", ee.err)
		}
		return ee.code
	}
	fmt.Fprintf(stderr, "vigil: %v\n", err)
	return 1
}

// newRootCommand builds vigil's commands for its arguments args, which
// --detach gives again to the vigil it starts.
func newRootCommand(args []string, stdout, stderr io.Writer) *cobra.Command {
	// A LevelVar, so that the level a configuration file sets, read after
	// the handler is made, still counts.
	var logLevel slog.LevelVar
	root := &cobra.Command{
		Use:           "vigil",
		Short:         "Watch every exec on this machine and report recipe matches as OpenTelemetry",
		Version:       version(),
		SilenceUsage:  true,
		SilenceErrors: true,
		PersistentPreRun: func(*cobra.Command, []string) {
			slog.SetDefault(slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: &logLevel})))
		},
	}
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.SetFlagErrorFunc(flagError)
	// The zero LevelVar stands for info.
	root.PersistentFlags().Var(levelFlag{&logLevel}, "log-level", "the `LEVEL` of vigil's own logs: debug, info, warn or error")
	root.AddCommand(newRunCommand(args, stdout, stderr), newRecipesCommand(stdout), newReplayCommand(stdout, stderr), newDoctorCommand(stdout),
		newReportCommand(stdout, stderr), newStopCommand(stderr), newReloadCommand(stderr))
	return root
}

// version is the module version vigil was built from.
func version() string {
	if info, ok := debug.ReadBuildInfo(); ok && info.Main.Version != "" && info.Main.Version != "(devel)" {
		return info.Main.Version
	}
	return "dev"
}
