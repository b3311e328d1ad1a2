// Package otlptest runs a real OTLP/gRPC receiver of logs, traces and
// metrics, built on the Collector's pdata packages, for tests that check
// what vigil exports; and a sink that takes exports undecoded, for
// benchmarks.
package otlptest

import (
	"context"
	"crypto/tls"
	"net"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/plog/plogotlp"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/pdata/pmetric/pmetricotlp"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	// A Collector's OTLP exporter compresses with gzip by default: the
	// receiver takes what a Collector sends.
	_ "google.golang.org/grpc/encoding/gzip"
	"google.golang.org/grpc/metadata"
)

// Receiver accepts OTLP on a loopback port and keeps what it receives.
type Receiver struct {
	// Endpoint is the receiver's address as an OTLP endpoint URL.
	Endpoint string

	mu       sync.Mutex
	metadata []metadata.MD
	logs     []plog.Logs
	traces   []ptrace.Traces
	metrics  []pmetric.Metrics
}

// Start serves a receiver until the test ends. It clears the OTEL_*
// environment too (ClearOTelEnv): a test that sends to a receiver must not
// also send wherever the machine's environment points.
func Start(t testing.TB) *Receiver {
	t.Helper()
	ClearOTelEnv(t)
	return start(t, "http://")
}

// StartTLS serves a receiver over TLS configured by cfg (its certificate,
// and the CAs of its clients for mutual TLS) until the test ends.
func StartTLS(t testing.TB, cfg *tls.Config) *Receiver {
	t.Helper()
	ClearOTelEnv(t)
	return start(t, "https://", grpc.Creds(credentials.NewTLS(cfg)))
}

func start(t testing.TB, scheme string, opts ...grpc.ServerOption) *Receiver {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	r := &Receiver{Endpoint: scheme + lis.Addr().String()}
	// Every request's metadata (the exporters' headers) is kept.
	keep := func(ctx context.Context, req any, _ *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		md, _ := metadata.FromIncomingContext(ctx)
		r.mu.Lock()
		r.metadata = append(r.metadata, md.Copy())
		r.mu.Unlock()
		return handler(ctx, req)
	}
	srv := grpc.NewServer(append(opts, grpc.UnaryInterceptor(keep))...)
	plogotlp.RegisterGRPCServer(srv, &logService{r: r})
	ptraceotlp.RegisterGRPCServer(srv, &traceService{r: r})
	pmetricotlp.RegisterGRPCServer(srv, &metricService{r: r})
	go func() { _ = srv.Serve(lis) }()
	t.Cleanup(srv.Stop)
	return r
}

type logService struct {
	plogotlp.UnimplementedGRPCServer
	r *Receiver
}

func (s *logService) Export(_ context.Context, req plogotlp.ExportRequest) (plogotlp.ExportResponse, error) {
	logs := plog.NewLogs()
	req.Logs().CopyTo(logs)
	s.r.mu.Lock()
	s.r.logs = append(s.r.logs, logs)
	s.r.mu.Unlock()
	return plogotlp.NewExportResponse(), nil
}

type traceService struct {
	ptraceotlp.UnimplementedGRPCServer
	r *Receiver
}

func (s *traceService) Export(_ context.Context, req ptraceotlp.ExportRequest) (ptraceotlp.ExportResponse, error) {
	traces := ptrace.NewTraces()
	req.Traces().CopyTo(traces)
	s.r.mu.Lock()
	s.r.traces = append(s.r.traces, traces)
	s.r.mu.Unlock()
	return ptraceotlp.NewExportResponse(), nil
}

type metricService struct {
	pmetricotlp.UnimplementedGRPCServer
	r *Receiver
}

func (s *metricService) Export(_ context.Context, req pmetricotlp.ExportRequest) (pmetricotlp.ExportResponse, error) {
	metrics := pmetric.NewMetrics()
	req.Metrics().CopyTo(metrics)
	s.r.mu.Lock()
	s.r.metrics = append(s.r.metrics, metrics)
	s.r.mu.Unlock()
	return pmetricotlp.NewExportResponse(), nil
}

// Metadata returns the gRPC metadata of every export request received so
// far, of all signals, in order.
func (r *Receiver) Metadata() []metadata.MD {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.metadata)
}

// HeaderValues returns, for each export request received so far, the
// values of its metadata key joined by commas ("" where it had none).
func (r *Receiver) HeaderValues(key string) []string {
	var out []string
	for _, md := range r.Metadata() {
		out = append(out, strings.Join(md.Get(key), ","))
	}
	return out
}

// Record is one received log record with the resource it came under.
type Record struct {
	Resource plog.ResourceLogs
	plog.LogRecord
}

// Records returns every log record received so far.
func (r *Receiver) Records() []Record {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []Record
	for _, logs := range r.logs {
		for _, rl := range logs.ResourceLogs().All() {
			for _, sl := range rl.ScopeLogs().All() {
				for _, lr := range sl.LogRecords().All() {
					out = append(out, Record{Resource: rl, LogRecord: lr})
				}
			}
		}
	}
	return out
}

// WaitRecords waits until at least n records have arrived and returns them
// all, failing the test after timeout.
func (r *Receiver) WaitRecords(t testing.TB, n int, timeout time.Duration) []Record {
	t.Helper()
	return waitFor(t, "log records", n, timeout, r.Records)
}

// Span is one received span with the resource it came under.
type Span struct {
	Resource ptrace.ResourceSpans
	ptrace.Span
}

// Spans returns every span received so far.
func (r *Receiver) Spans() []Span {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []Span
	for _, traces := range r.traces {
		for _, rs := range traces.ResourceSpans().All() {
			for _, ss := range rs.ScopeSpans().All() {
				for _, s := range ss.Spans().All() {
					out = append(out, Span{Resource: rs, Span: s})
				}
			}
		}
	}
	return out
}

// Metric is one received metric with the resource it came under.
type Metric struct {
	Resource pmetric.ResourceMetrics
	pmetric.Metric
}

// Metrics returns every metric received so far, each export's separately.
func (r *Receiver) Metrics() []Metric {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []Metric
	for _, metrics := range r.metrics {
		for _, rm := range metrics.ResourceMetrics().All() {
			for _, sm := range rm.ScopeMetrics().All() {
				for _, m := range sm.Metrics().All() {
					out = append(out, Metric{Resource: rm, Metric: m})
				}
			}
		}
	}
	return out
}

// waitFor polls get until it returns at least n items.
func waitFor[T any](t testing.TB, what string, n int, timeout time.Duration, get func() []T) []T {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		items := get()
		if len(items) >= n {
			return items
		}
		if time.Now().After(deadline) {
			t.Fatalf("received %d %s, want %d", len(items), what, n)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
