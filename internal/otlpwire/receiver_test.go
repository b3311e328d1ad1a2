package otlpwire_test

import (
	"bytes"
	"context"
	"net"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
	collogspb "go.opentelemetry.io/proto/otlp/collector/logs/v1"
	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/encoding/prototext"
	"google.golang.org/protobuf/proto"

	"github.com/vigil-otel/vigil/internal/otlptest"
)

// receiver is an OTLP/gRPC receiver of logs and traces that keeps each
// request as the OTLP protobuf types decode it: what the SDK's exporters
// send, to compare with what this package encodes.
type receiver struct {
	// addr is the receiver's host:port.
	addr string

	mu     sync.Mutex
	traces []*coltracepb.ExportTraceServiceRequest
	logs   []*collogspb.ExportLogsServiceRequest
}

// startReceiver serves a receiver until the test ends. It clears the
// OTEL_* environment, which would otherwise configure the exporters too.
func startReceiver(t *testing.T) *receiver {
	t.Helper()
	otlptest.ClearOTelEnv(t)
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	r := &receiver{addr: lis.Addr().String()}
	srv := grpc.NewServer()
	coltracepb.RegisterTraceServiceServer(srv, traceService{r: r})
	collogspb.RegisterLogsServiceServer(srv, logsService{r: r})
	go func() { _ = srv.Serve(lis) }()
	t.Cleanup(srv.Stop)
	return r
}

type traceService struct {
	coltracepb.UnimplementedTraceServiceServer
	r *receiver
}

func (s traceService) Export(_ context.Context, req *coltracepb.ExportTraceServiceRequest) (*coltracepb.ExportTraceServiceResponse, error) {
	s.r.mu.Lock()
	defer s.r.mu.Unlock()
	s.r.traces = append(s.r.traces, req)
	return &coltracepb.ExportTraceServiceResponse{}, nil
}

type logsService struct {
	collogspb.UnimplementedLogsServiceServer
	r *receiver
}

func (s logsService) Export(_ context.Context, req *collogspb.ExportLogsServiceRequest) (*collogspb.ExportLogsServiceResponse, error) {
	s.r.mu.Lock()
	defer s.r.mu.Unlock()
	s.r.logs = append(s.r.logs, req)
	return &collogspb.ExportLogsServiceResponse{}, nil
}

// tracesRequests returns the trace requests received so far.
func (r *receiver) tracesRequests() []*coltracepb.ExportTraceServiceRequest {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.traces
}

// logsRequests returns the log requests received so far.
func (r *receiver) logsRequests() []*collogspb.ExportLogsServiceRequest {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.logs
}

// decodeTraces decodes b as the OTLP protobuf types do, and checks that b
// is canonical: what proto.Marshal gives for what it decoded.
func decodeTraces(t *testing.T, b []byte) *coltracepb.ExportTraceServiceRequest {
	t.Helper()
	var req coltracepb.ExportTraceServiceRequest
	require.NoError(t, proto.Unmarshal(b, &req))
	requireCanonical(t, &req, b)
	return &req
}

// decodeLogs decodes b as the OTLP protobuf types do, and checks that b
// is canonical.
func decodeLogs(t *testing.T, b []byte) *collogspb.ExportLogsServiceRequest {
	t.Helper()
	var req collogspb.ExportLogsServiceRequest
	require.NoError(t, proto.Unmarshal(b, &req))
	requireCanonical(t, &req, b)
	return &req
}

// requireCanonical checks that b is what proto.Marshal, deterministic,
// gives for m.
func requireCanonical(t *testing.T, m proto.Message, b []byte) {
	t.Helper()
	want, err := proto.MarshalOptions{Deterministic: true}.Marshal(m)
	require.NoError(t, err)
	if !bytes.Equal(want, b) {
		t.Fatalf("not canonical: %d bytes, proto.Marshal gives %d\n got % x\nwant % x", len(b), len(want), b, want)
	}
}

// requireProtoEqual checks that got equals want, showing both in text
// when not.
func requireProtoEqual(t *testing.T, want, got proto.Message) {
	t.Helper()
	if !proto.Equal(want, got) {
		t.Fatalf("got:\n%s\nwant:\n%s", prototext.Format(got), prototext.Format(want))
	}
}
