package proctable

import (
	"context"
	"strings"

	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"

	"github.com/vigil-otel/vigil/internal/execenv"
)

// envCarrier reads W3C trace context from the environment variables the
// sensor read at an exec, under the names OpenTelemetry's environment
// carrier gives them: TRACEPARENT, TRACESTATE.
type envCarrier map[string]string

func (c envCarrier) Get(key string) string { return c[strings.ToUpper(key)] }

// Set does nothing: the table only reads.
func (envCarrier) Set(string, string) {}

func (c envCarrier) Keys() []string {
	keys := make([]string, 0, len(c))
	for k := range c {
		keys = append(keys, strings.ToLower(k))
	}
	return keys
}

// version00Len is the length of a traceparent of W3C Trace Context's
// version 00, which has no room for more fields.
const version00Len = len("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")

// envTraceContext returns the trace context an exec's environment names,
// and whether the environment named one at all, valid or not.
func envTraceContext(env map[string]string) (trace.SpanContext, bool) {
	tp := env[execenv.TraceParent]
	if tp == "" {
		return trace.SpanContext{}, false
	}
	// OpenTelemetry's propagator takes a version 00 traceparent that ends
	// in a '-', which the specification refuses.
	if strings.HasPrefix(tp, "00") && len(tp) != version00Len {
		return trace.SpanContext{}, true
	}
	ctx := propagation.TraceContext{}.Extract(context.Background(), envCarrier(env))
	return trace.SpanContextFromContext(ctx), true
}
