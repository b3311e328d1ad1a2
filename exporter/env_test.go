package exporter

import (
	"context"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/trace"

	"github.com/vigil-otel/vigil/internal/otlptest"
	"github.com/vigil-otel/vigil/semconv"
)

// exportAll emits one detection inside a span and counts one in a metric,
// with OTLP configured by the environment and what settings say, then
// flushes.
func exportAll(t *testing.T, settings OTLPSettings) {
	t.Helper()
	exp, err := New(context.Background(), Config{OTLP: true, Spans: true, OTLPSettings: settings})
	require.NoError(t, err)
	d := sampleRecord("zip", "-q", "x.zip")
	parent := trace.NewSpanContext(trace.SpanContextConfig{
		TraceID: trace.TraceID{1}, SpanID: trace.SpanID{2}, TraceFlags: trace.FlagsSampled, Remote: true,
	})
	span := exp.StartExec(parent, d.Exec)
	require.NotNil(t, span)
	require.NoError(t, exp.Emit(trace.ContextWithSpan(context.Background(), span), d))
	span.End()
	counter, err := exp.Meter().Int64Counter(semconv.MetricDetections)
	require.NoError(t, err)
	counter.Add(context.Background(), 1)
	require.NoError(t, exp.Shutdown(context.Background()))
	require.Equal(t, Stats{Emitted: 1, Exported: 1, SpansEnded: 1, SpansExported: 1}, exp.Stats())
}

// receivedAll checks that rcv got what exportAll sends: the detection,
// its span and the metric.
func receivedAll(t *testing.T, rcv *otlptest.Receiver) {
	t.Helper()
	require.Len(t, rcv.Records(), 1)
	require.Len(t, rcv.Spans(), 1)
	require.NotEmpty(t, rcv.Metrics())
}

// tlsReceiver starts a receiver that requires mutual TLS, and names the
// certificates in the OTEL_EXPORTER_OTLP_* variables.
func tlsReceiver(t *testing.T) *otlptest.Receiver {
	t.Helper()
	certs := otlptest.NewCertificates(t)
	rcv := otlptest.StartTLS(t, certs.Server)
	t.Setenv("OTEL_EXPORTER_OTLP_CERTIFICATE", certs.CAFile)
	t.Setenv("OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE", certs.CertFile)
	t.Setenv("OTEL_EXPORTER_OTLP_CLIENT_KEY", certs.KeyFile)
	return rcv
}

// TestOTelEnvironment checks that the standard OTEL_EXPORTER_OTLP_*
// variables decide where and how vigil exports when nothing else says.
func TestOTelEnvironment(t *testing.T) {
	t.Run("per-signal endpoints beat the general one", func(t *testing.T) {
		logs, traces, metrics, general := otlptest.Start(t), otlptest.Start(t), otlptest.Start(t), otlptest.Start(t)
		t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", general.Endpoint)
		t.Setenv("OTEL_EXPORTER_OTLP_LOGS_ENDPOINT", logs.Endpoint)
		t.Setenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", traces.Endpoint)
		t.Setenv("OTEL_EXPORTER_OTLP_METRICS_ENDPOINT", metrics.Endpoint)
		require.True(t, OTLPFromEnv())
		exportAll(t, OTLPSettings{})

		require.Len(t, logs.Records(), 1)
		require.Empty(t, logs.Spans())
		require.Len(t, traces.Spans(), 1)
		require.Empty(t, traces.Records())
		require.NotEmpty(t, metrics.Metrics())
		require.Empty(t, metrics.Records())
		require.Empty(t, general.Metadata(), "every signal has its own endpoint")
	})

	t.Run("mutual TLS, headers, compression and timeout", func(t *testing.T) {
		rcv := tlsReceiver(t)
		t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", rcv.Endpoint)
		t.Setenv("OTEL_EXPORTER_OTLP_HEADERS", "x-api-key=k3y,x-team=sec")
		t.Setenv("OTEL_EXPORTER_OTLP_COMPRESSION", "gzip")
		t.Setenv("OTEL_EXPORTER_OTLP_TIMEOUT", "5000")
		exportAll(t, OTLPSettings{})

		receivedAll(t, rcv)
		require.Len(t, rcv.Metadata(), 3, "one request per signal")
		require.Equal(t, []string{"k3y", "k3y", "k3y"}, rcv.HeaderValues("x-api-key"))
		require.Equal(t, []string{"sec", "sec", "sec"}, rcv.HeaderValues("x-team"))
		for _, enc := range rcv.HeaderValues("grpc-accept-encoding") {
			require.Contains(t, enc, "gzip")
		}
	})

	t.Run("an endpoint without a scheme: insecure says plain text", func(t *testing.T) {
		rcv, logs := otlptest.Start(t), otlptest.Start(t)
		t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", strings.TrimPrefix(rcv.Endpoint, "http://"))
		t.Setenv("OTEL_EXPORTER_OTLP_INSECURE", "true")
		t.Setenv("OTEL_EXPORTER_OTLP_LOGS_ENDPOINT", strings.TrimPrefix(logs.Endpoint, "http://"))
		t.Setenv("OTEL_EXPORTER_OTLP_LOGS_INSECURE", "TRUE")
		exportAll(t, OTLPSettings{})
		require.Len(t, logs.Records(), 1)
		require.Len(t, rcv.Spans(), 1)
		require.NotEmpty(t, rcv.Metrics())
	})

	t.Run("an endpoint without a scheme: TLS unless insecure", func(t *testing.T) {
		rcv := tlsReceiver(t)
		t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", strings.TrimPrefix(rcv.Endpoint, "https://"))
		exportAll(t, OTLPSettings{})
		receivedAll(t, rcv)
	})

	t.Run("an endpoint without a scheme: a configured insecure beats the variable", func(t *testing.T) {
		rcv := tlsReceiver(t)
		t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", strings.TrimPrefix(rcv.Endpoint, "https://"))
		t.Setenv("OTEL_EXPORTER_OTLP_INSECURE", "true")
		secure := false
		exportAll(t, OTLPSettings{OTLPConnection: OTLPConnection{Insecure: &secure}})
		require.Len(t, rcv.Records(), 1)
	})

	t.Run("service name and resource attributes", func(t *testing.T) {
		rcv := otlptest.Start(t)
		t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", rcv.Endpoint)
		t.Setenv("OTEL_SERVICE_NAME", "vigil-ci")
		t.Setenv("OTEL_RESOURCE_ATTRIBUTES", "deployment.environment.name=ci,team=sec")
		exportAll(t, OTLPSettings{})
		for _, res := range []map[string]any{
			rcv.Records()[0].Resource.Resource().Attributes().AsRaw(),
			rcv.Spans()[0].Resource.Resource().Attributes().AsRaw(),
			rcv.Metrics()[0].Resource.Resource().Attributes().AsRaw(),
		} {
			require.Equal(t, "vigil-ci", res[string(semconv.ServiceNameKey)])
			require.Equal(t, "sec", res["team"])
		}
	})
}

// TestUndeliveredSpansAreCounted exports to an endpoint nobody listens on:
// the detection and the span that carries it are both counted as lost.
func TestUndeliveredSpansAreCounted(t *testing.T) {
	otlptest.ClearOTelEnv(t)
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	dead := "http://" + lis.Addr().String()
	require.NoError(t, lis.Close())
	exp, err := New(context.Background(), Config{OTLP: true, Spans: true,
		OTLPSettings: OTLPSettings{OTLPConnection: OTLPConnection{Endpoint: dead, Timeout: 200 * time.Millisecond}}})
	require.NoError(t, err)
	d := sampleRecord("zip")
	parent := trace.NewSpanContext(trace.SpanContextConfig{TraceID: trace.TraceID{1}, SpanID: trace.SpanID{2}, TraceFlags: trace.FlagsSampled})
	span := exp.StartExec(parent, d.Exec)
	require.NoError(t, exp.Emit(trace.ContextWithSpan(context.Background(), span), d))
	span.End()
	// A span of a trace that is not sampled is not exported, nor lost.
	unsampled := trace.NewSpanContext(trace.SpanContextConfig{TraceID: trace.TraceID{3}, SpanID: trace.SpanID{4}})
	exp.StartExec(unsampled, sampleRecord("unzip").Exec).End()

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	require.Error(t, exp.Shutdown(ctx))
	require.Equal(t, Stats{Emitted: 1, Failed: 1, SpansEnded: 1, SpansFailed: 1}, exp.Stats())
}

// TestSignalSettingsBeatTheGeneralOnes merges, field by field, what one
// signal says over what every signal's settings say.
func TestSignalSettingsBeatTheGeneralOnes(t *testing.T) {
	plain, secure := true, false
	s := OTLPSettings{
		OTLPConnection: OTLPConnection{Endpoint: "https://all:4317", Headers: map[string]string{"k": "all"},
			Insecure: &secure, Timeout: time.Second, Compression: "gzip"},
		Traces: OTLPConnection{Endpoint: "http://tempo:4317", Headers: map[string]string{"k": "tempo"}, Insecure: &plain},
	}
	require.Equal(t, s.OTLPConnection, s.of(s.Logs), "logs say nothing of their own")
	require.Equal(t, OTLPConnection{Endpoint: "http://tempo:4317", Headers: map[string]string{"k": "tempo"},
		Insecure: &plain, Timeout: time.Second, Compression: "gzip"}, s.of(s.Traces))
}

// TestSpanScheduleDelay: OTEL_BSP_SCHEDULE_DELAY sets how long exec spans
// wait for company before they are sent, as it does for the SDK's
// batching; a value that is not a number of milliseconds stops vigil with
// the variable named.
func TestSpanScheduleDelay(t *testing.T) {
	otlptest.ClearOTelEnv(t)
	d, err := spanDelay()
	require.NoError(t, err)
	require.Equal(t, time.Second, d, "the default")
	t.Setenv("OTEL_BSP_SCHEDULE_DELAY", "0")
	d, err = spanDelay()
	require.NoError(t, err)
	require.Zero(t, d)
	for _, bad := range []string{"1s", "-5", "soon"} {
		t.Setenv("OTEL_BSP_SCHEDULE_DELAY", bad)
		_, err := New(context.Background(), Config{OTLP: true, Spans: true,
			OTLPSettings: OTLPSettings{OTLPConnection: OTLPConnection{Endpoint: "http://127.0.0.1:4317"}}})
		require.EqualError(t, err, `OTEL_BSP_SCHEDULE_DELAY "`+bad+`": want a whole number of milliseconds, 0 or more`)
	}
}
