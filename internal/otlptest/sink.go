package otlptest

import (
	"net"
	"sync/atomic"
	"testing"

	"google.golang.org/grpc"
)

// Sink accepts OTLP/gRPC exports of every signal on a loopback port and
// throws them away undecoded: for benchmarks, in whose process a
// receiver's decoding would be counted as the exporter's cost.
type Sink struct {
	// Endpoint is the sink's address as an OTLP endpoint URL.
	Endpoint string
	requests atomic.Uint64
}

// Requests is how many export requests the sink has taken.
func (s *Sink) Requests() uint64 { return s.requests.Load() }

// StartSink serves a sink until the benchmark ends. It clears the OTEL_*
// environment too, as Start does.
func StartSink(t testing.TB) *Sink {
	t.Helper()
	ClearOTelEnv(t)
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	s := &Sink{Endpoint: "http://" + lis.Addr().String()}
	srv := newSinkServer(&s.requests)
	go func() { _ = srv.Serve(lis) }()
	t.Cleanup(srv.Stop)
	return s
}

// NewSinkServer returns a gRPC server that answers every method of every
// service, so every OTLP export, with an empty response (a valid one of
// each signal) once it has read the request's bytes, which it does not
// decode. StartSink serves one for a benchmark; a program outside the
// tests (bench/otlpsink) serves one with Serve and ends it with Stop.
func NewSinkServer() *grpc.Server { return newSinkServer(new(atomic.Uint64)) }

// newSinkServer is NewSinkServer counting the requests it takes in
// requests.
func newSinkServer(requests *atomic.Uint64) *grpc.Server {
	return grpc.NewServer(grpc.ForceServerCodec(rawCodec{}), grpc.UnknownServiceHandler(func(_ any, stream grpc.ServerStream) error {
		var req []byte
		if err := stream.RecvMsg(&req); err != nil {
			return err
		}
		requests.Add(1)
		return stream.SendMsg(&[]byte{})
	}))
}

// rawCodec passes messages through as bytes.
type rawCodec struct{}

func (rawCodec) Marshal(v any) ([]byte, error) { return *v.(*[]byte), nil }

func (rawCodec) Unmarshal(data []byte, v any) error {
	*v.(*[]byte) = data
	return nil
}

func (rawCodec) Name() string { return "proto" }
