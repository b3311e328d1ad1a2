package exporter

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/encoding/gzip"
	"google.golang.org/grpc/mem"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/vigil-otel/vigil/delivery"
	"github.com/vigil-otel/vigil/internal/otlpwire"
)

// The OTLP/gRPC services' export methods.
const (
	logsMethod   = "/opentelemetry.proto.collector.logs.v1.LogsService/Export"
	tracesMethod = "/opentelemetry.proto.collector.trace.v1.TraceService/Export"
)

// transport sends encoded OTLP export requests, as they are, to one
// receiver: vigil encodes each request once, and a request kept through an
// outage is sent byte for byte as it was made.
type transport struct {
	conn    *grpc.ClientConn
	method  string
	md      metadata.MD
	timeout time.Duration
	calls   []grpc.CallOption
	log     *slog.Logger
}

// dial makes the transport of one signal; it connects at the first
// request, and again after each failure.
func dial(c connection, method, userAgent string, log *slog.Logger) (*transport, error) {
	creds := insecure.NewCredentials()
	if !c.plain {
		creds = credentials.NewTLS(c.tls)
	}
	conn, err := grpc.NewClient(c.target, grpc.WithTransportCredentials(creds), grpc.WithUserAgent(userAgent))
	if err != nil {
		return nil, fmt.Errorf("connect to %s: %w", c.target, err)
	}
	t := &transport{conn: conn, method: method, timeout: c.timeout, calls: []grpc.CallOption{grpc.ForceCodecV2(rawCodec{})}, log: log}
	if len(c.headers) > 0 {
		t.md = metadata.New(c.headers)
	}
	if c.gzip {
		t.calls = append(t.calls, grpc.UseCompressor(gzip.Name))
	}
	return t, nil
}

// Send sends one request, as package delivery asks: a failure that
// sending again cannot cure, as the OTLP specification says of each gRPC
// status, is a *delivery.Permanent.
func (t *transport) Send(ctx context.Context, r delivery.Request) (rejected int64, err error) {
	ctx, cancel := context.WithTimeout(ctx, t.timeout)
	defer cancel()
	if t.md != nil {
		ctx = metadata.NewOutgoingContext(ctx, t.md)
	}
	var resp []byte
	if err := t.conn.Invoke(ctx, t.method, r.Body, &resp, t.calls...); err != nil {
		wrapped := fmt.Errorf("export to %s: %w", t.conn.Target(), err)
		if !retryable(status.Convert(err)) {
			return 0, &delivery.Permanent{Err: wrapped}
		}
		return 0, wrapped
	}
	rejected, msg, err := otlpwire.ParseResponse(resp)
	if err != nil {
		// Delivered all the same: the receiver said OK.
		t.log.Warn("the OTLP receiver's answer could not be read", "receiver", t.conn.Target(), "error", err)
		return 0, nil
	}
	if rejected > 0 {
		t.log.Warn("the OTLP receiver refused part of a request", "receiver", t.conn.Target(), "refused", rejected, "message", msg)
	}
	return rejected, nil
}

// retryable says whether a request that failed with s may succeed when
// sent again: the receiver is away, busy or cut off, not refusing it.
func retryable(s *status.Status) bool {
	switch s.Code() {
	case codes.Canceled, codes.DeadlineExceeded, codes.Aborted, codes.OutOfRange, codes.Unavailable, codes.DataLoss:
		return true
	case codes.ResourceExhausted:
		// Only when the receiver says when to come back; otherwise the
		// request itself is too much.
		for _, d := range s.Details() {
			if _, ok := d.(*errdetails.RetryInfo); ok {
				return true
			}
		}
	}
	return false
}

// close closes the connection.
func (t *transport) close() error { return t.conn.Close() }

// rawCodec passes encoded messages through: vigil's requests are
// protobuf already, and the responses are read by package otlpwire.
type rawCodec struct{}

func (rawCodec) Marshal(v any) (mem.BufferSlice, error) {
	b, ok := v.([]byte)
	if !ok {
		return nil, fmt.Errorf("raw codec: cannot send %T", v)
	}
	return mem.BufferSlice{mem.SliceBuffer(b)}, nil
}

func (rawCodec) Unmarshal(data mem.BufferSlice, v any) error {
	b, ok := v.(*[]byte)
	if !ok {
		return fmt.Errorf("raw codec: cannot read into %T", v)
	}
	*b = data.Materialize()
	return nil
}

// Name is that of the protobuf codec: the receiver reads
// application/grpc+proto.
func (rawCodec) Name() string { return "proto" }
