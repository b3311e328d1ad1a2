package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"slices"
	"strings"
	"syscall"

	"go.opentelemetry.io/contrib/propagators/envcar"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	oteltrace "go.opentelemetry.io/otel/trace"

	"github.com/vigil-otel/vigil/internal/execenv"
	"github.com/vigil-otel/vigil/pipeline"
	"github.com/vigil-otel/vigil/semconv"
)

// The watched command of `vigil run -- CMD`: vigil starts it in a span of
// its own, passes it the signals vigil receives, and ends with its status.

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
