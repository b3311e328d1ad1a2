// Command otlpsink takes OTLP/gRPC exports of every signal and throws them
// away undecoded, so that a benchmark (bench/soak.sh) can run vigil's
// exporters for real without a Collector, whose work would blur the
// machine's figures:
//
//	otlpsink [-addr HOST:PORT]
//
// It prints its endpoint URL (http://HOST:PORT) as one line on standard
// output once it listens, then serves until SIGINT or SIGTERM.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"syscall"

	"github.com/vigil-otel/vigil/internal/otlptest"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "otlpsink:", err)
		stop()
		os.Exit(1)
	}
}

// run serves the sink on the address of args until ctx ends, once it has
// written its endpoint to stdout.
func run(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("otlpsink", flag.ContinueOnError)
	addr := fs.String("addr", "127.0.0.1:0", "the address to listen on (port 0: any free port)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	lis, err := net.Listen("tcp", *addr)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	srv := otlptest.NewSinkServer()
	served := make(chan error, 1)
	go func() { served <- srv.Serve(lis) }()
	if _, err := fmt.Fprintf(stdout, "http://%s\n", lis.Addr()); err != nil {
		srv.Stop()
		return fmt.Errorf("write the endpoint: %w", err)
	}
	select {
	case <-ctx.Done():
		srv.Stop()
		return nil
	case err := <-served:
		return fmt.Errorf("serve: %w", err)
	}
}
