package detection

import (
	"strconv"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"github.com/vigil-otel/vigil/semconv"
)

// ExecSpan is the span of one exec: a span that the exec's detections
// are recorded in, ended in one call with how it ended.
type ExecSpan interface {
	trace.Span
	// EndExec ends the span as e says, with e's attributes and status.
	// It does what SetAttributes, SetStatus and End would, without the
	// allocations of their variadic arguments and options, once per
	// traced exec.
	EndExec(e SpanEnd)
}

// SpanEnd is how the span of an exec ends: when, why, how many
// detections it carried (its process's and its descendants'), and the
// exit code when the process exited.
type SpanEnd struct {
	At time.Time
	// Reason is one of semconv's SpanEnd values.
	Reason     string
	Detections int
	// Exited says the process exited, with ExitCode.
	Exited   bool
	ExitCode int
}

// Attributes appends the span's own attributes to dst: at most SpanRoom
// of them, for which an Exec's attributes keep room. An Exec's
// attributes never have their keys.
func (e SpanEnd) Attributes(dst []attribute.KeyValue) []attribute.KeyValue {
	dst = append(dst,
		semconv.VigilProcessDetectionsKey.Int(e.Detections),
		semconv.VigilSpanEndKey.String(e.Reason),
	)
	if e.Exited {
		dst = append(dst, semconv.ProcessExitCodeKey.Int(e.ExitCode))
	}
	return dst
}

// Status is the span's status: an error when the process exited with a
// code other than 0, unset otherwise.
func (e SpanEnd) Status() (codes.Code, string) {
	if e.Exited && e.ExitCode != 0 {
		return codes.Error, "exit code " + strconv.Itoa(e.ExitCode)
	}
	return codes.Unset, ""
}
