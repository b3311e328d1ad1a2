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

// envTraceContext returns the trace context an exec's environment names,
// and whether the environment named one at all, valid or not.
func envTraceContext(env map[string]string) (trace.SpanContext, bool) {
	if env[execenv.TraceParent] == "" {
		return trace.SpanContext{}, false
	}
	ctx := propagation.TraceContext{}.Extract(context.Background(), envCarrier(env))
	return trace.SpanContextFromContext(ctx), true
}
