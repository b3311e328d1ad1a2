// Package otlptest runs a real OTLP/gRPC logs receiver, built on the
// Collector's pdata packages, for tests that check what vigil exports.
package otlptest

import (
	"context"
	"net"
	"sync"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/plog/plogotlp"
	"google.golang.org/grpc"
)

// Receiver accepts OTLP logs on a loopback port and keeps them.
type Receiver struct {
	plogotlp.UnimplementedGRPCServer
	// Endpoint is the receiver's address as an OTLP endpoint URL.
	Endpoint string

	mu   sync.Mutex
	logs []plog.Logs
}

// Start serves a receiver until the test ends.
func Start(t testing.TB) *Receiver {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	r := &Receiver{Endpoint: "http://" + lis.Addr().String()}
	srv := grpc.NewServer()
	plogotlp.RegisterGRPCServer(srv, r)
	go func() { _ = srv.Serve(lis) }()
	t.Cleanup(srv.Stop)
	return r
}

// Export implements the OTLP logs service.
func (r *Receiver) Export(_ context.Context, req plogotlp.ExportRequest) (plogotlp.ExportResponse, error) {
	logs := plog.NewLogs()
	req.Logs().CopyTo(logs)
	r.mu.Lock()
	r.logs = append(r.logs, logs)
	r.mu.Unlock()
	return plogotlp.NewExportResponse(), nil
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
	deadline := time.Now().Add(timeout)
	for {
		recs := r.Records()
		if len(recs) >= n {
			return recs
		}
		if time.Now().After(deadline) {
			t.Fatalf("received %d log records, want %d", len(recs), n)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
