package delivery

import (
	"context"
	"fmt"
)

// Signal is the kind of telemetry a [Request] carries.
type Signal uint8

// The signals an outbox carries. Their values are written in the spool:
// they never change.
const (
	Logs   Signal = 1
	Traces Signal = 2
)

// String returns "logs" or "traces".
func (s Signal) String() string {
	switch s {
	case Logs:
		return "logs"
	case Traces:
		return "traces"
	default:
		return fmt.Sprintf("signal(%d)", uint8(s))
	}
}

// Request is one encoded OTLP export request.
type Request struct {
	// Signal says which service the request is for.
	Signal Signal
	// Items is the number of log records or spans in Body, for counting.
	Items int
	// Body is an encoded ExportLogsServiceRequest or
	// ExportTraceServiceRequest; the outbox never looks inside.
	Body []byte
}

// Transport sends one request to the receiver.
//
// Send returns a nil error when the receiver accepted the request;
// rejected is then how many of its items the receiver's partial success
// refused, which are counted and not sent again. It returns a [*Permanent]
// error (or one that wraps it) when sending the request again cannot
// help, and any other error when it can. Send must return soon after ctx
// is done. It is called from one goroutine at a time and must not keep
// r.Body once it returns.
type Transport interface {
	Send(ctx context.Context, r Request) (rejected int64, err error)
}

// Permanent is an error that retrying cannot cure: the receiver refused
// the request for good. The outbox drops the request and counts it.
type Permanent struct {
	Err error
}

// Error returns the error's text.
func (p *Permanent) Error() string { return "permanent: " + p.Err.Error() }

// Unwrap returns the error that made the failure permanent.
func (p *Permanent) Unwrap() error { return p.Err }
