package otlpwire_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/plog/plogotlp"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/log"
	"go.opentelemetry.io/otel/sdk/instrumentation"
	"go.opentelemetry.io/otel/sdk/resource"
	"go.opentelemetry.io/otel/trace"
	collogspb "go.opentelemetry.io/proto/otlp/collector/logs/v1"
	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
	logspb "go.opentelemetry.io/proto/otlp/logs/v1"
	resourcepb "go.opentelemetry.io/proto/otlp/resource/v1"

	"github.com/vigil-otel/vigil/internal/otlpwire"
	"github.com/vigil-otel/vigil/semconv"
)

// TestAppendLogsRequest encodes a record that sets every field, its
// attributes in three lists, and one that sets none it may leave out,
// after what dst held, and checks each field as the OTLP types and the
// Collector's pdata decode it.
func TestAppendLogsRequest(t *testing.T) {
	now := time.Date(2026, 5, 1, 12, 0, 0, 123456789, time.UTC)
	cases := attrCases()
	full := otlpwire.LogRecord{
		Time:              now,
		Observed:          now.Add(time.Millisecond),
		EventName:         semconv.DetectionEventName,
		Severity:          log.SeverityWarn,
		SeverityText:      "WARN",
		Body:              attribute.StringValue("curl piped to a shell"),
		Attributes:        [][]attribute.KeyValue{attrs(cases[:3]), nil, attrs(cases[3:])},
		DroppedAttributes: 3,
		TraceID:           trace.TraceID{1, 2, 3},
		SpanID:            trace.SpanID{4, 5},
		Flags:             trace.FlagsSampled,
	}
	bare := otlpwire.LogRecord{Severity: log.Severity(99)}

	prefix := []byte("held before")
	b := otlpwire.AppendLogsRequest(prefix, testResource(), testScope(), []otlpwire.LogRecord{full, bare})
	require.Equal(t, "held before", string(b[:len(prefix)]))
	b = b[len(prefix):]

	nanos := uint64(now.UnixNano())
	want := &collogspb.ExportLogsServiceRequest{ResourceLogs: []*logspb.ResourceLogs{{
		Resource: &resourcepb.Resource{Attributes: []*commonpb.KeyValue{
			{Key: string(semconv.HostNameKey), Value: stringValue("runner-7")},
			{Key: string(semconv.ServiceNameKey), Value: stringValue("vigil")},
		}},
		SchemaUrl: semconv.SchemaURL,
		ScopeLogs: []*logspb.ScopeLogs{{
			Scope: &commonpb.InstrumentationScope{Name: "github.com/vigil-otel/vigil", Version: "1.2.3",
				Attributes: []*commonpb.KeyValue{{Key: string(semconv.CISystemKey), Value: stringValue("github_actions")}}},
			SchemaUrl: semconv.SchemaURL,
			LogRecords: []*logspb.LogRecord{{
				TimeUnixNano:           nanos,
				ObservedTimeUnixNano:   nanos + 1e6,
				SeverityNumber:         logspb.SeverityNumber_SEVERITY_NUMBER_WARN,
				SeverityText:           "WARN",
				Body:                   stringValue("curl piped to a shell"),
				Attributes:             wantAttrs(cases),
				DroppedAttributesCount: 3,
				Flags:                  1,
				TraceId:                []byte{1, 2, 3, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0},
				SpanId:                 []byte{4, 5, 0, 0, 0, 0, 0, 0},
				EventName:              semconv.DetectionEventName,
			}, {
				// An empty body is sent as a value with none set.
				Body: &commonpb.AnyValue{},
			}},
		}},
	}}}
	requireProtoEqual(t, want, decodeLogs(t, b))

	req := plogotlp.NewExportRequest()
	require.NoError(t, req.UnmarshalProto(b))
	requirePdataLogs(t, want, req.Logs())
}

// requirePdataLogs checks each field of got, as pdata decoded it, against
// want.
func requirePdataLogs(t *testing.T, want *collogspb.ExportLogsServiceRequest, got plog.Logs) {
	t.Helper()
	require.Equal(t, len(want.ResourceLogs), got.ResourceLogs().Len())
	for i, wrl := range want.ResourceLogs {
		rl := got.ResourceLogs().At(i)
		requirePdataAttrs(t, wrl.Resource.Attributes, rl.Resource().Attributes())
		require.Equal(t, wrl.SchemaUrl, rl.SchemaUrl())
		require.Equal(t, len(wrl.ScopeLogs), rl.ScopeLogs().Len())
		for j, wsl := range wrl.ScopeLogs {
			sl := rl.ScopeLogs().At(j)
			require.Equal(t, wsl.Scope.Name, sl.Scope().Name())
			require.Equal(t, wsl.Scope.Version, sl.Scope().Version())
			requirePdataAttrs(t, wsl.Scope.Attributes, sl.Scope().Attributes())
			require.Equal(t, wsl.SchemaUrl, sl.SchemaUrl())
			require.Equal(t, len(wsl.LogRecords), sl.LogRecords().Len())
			for k, w := range wsl.LogRecords {
				requirePdataRecord(t, w, sl.LogRecords().At(k))
			}
		}
	}
}

// requirePdataRecord checks each field of got against want.
func requirePdataRecord(t *testing.T, want *logspb.LogRecord, got plog.LogRecord) {
	t.Helper()
	require.Equal(t, pcommon.Timestamp(want.TimeUnixNano), got.Timestamp())
	require.Equal(t, pcommon.Timestamp(want.ObservedTimeUnixNano), got.ObservedTimestamp())
	require.Equal(t, int32(want.SeverityNumber), int32(got.SeverityNumber()))
	require.Equal(t, want.SeverityText, got.SeverityText())
	require.Equal(t, rawValue(want.Body), got.Body().AsRaw())
	requirePdataAttrs(t, want.Attributes, got.Attributes())
	require.Equal(t, want.DroppedAttributesCount, got.DroppedAttributesCount())
	require.Equal(t, want.Flags, uint32(got.Flags()))
	tid, sid := got.TraceID(), got.SpanID()
	if want.TraceId == nil {
		require.True(t, tid.IsEmpty())
	} else {
		require.Equal(t, want.TraceId, tid[:])
	}
	if want.SpanId == nil {
		require.True(t, sid.IsEmpty())
	} else {
		require.Equal(t, want.SpanId, sid[:])
	}
	require.Equal(t, want.EventName, got.EventName())
}

// TestAppendLogsRequestEmptyResource checks that, as the SDK's log
// exporter, an empty resource and the zero scope are left out.
func TestAppendLogsRequestEmptyResource(t *testing.T) {
	for _, res := range []*resource.Resource{nil, resource.Empty()} {
		b := otlpwire.AppendLogsRequest(nil, res, instrumentation.Scope{}, []otlpwire.LogRecord{{Body: attribute.IntValue(7)}})
		want := &collogspb.ExportLogsServiceRequest{ResourceLogs: []*logspb.ResourceLogs{{
			ScopeLogs: []*logspb.ScopeLogs{{LogRecords: []*logspb.LogRecord{{Body: intValue(7)}}}},
		}}}
		requireProtoEqual(t, want, decodeLogs(t, b))
	}
}

// TestAppendLogsRequestNoRecords checks that no records make no request.
func TestAppendLogsRequestNoRecords(t *testing.T) {
	b := otlpwire.AppendLogsRequest([]byte{1}, testResource(), testScope(), nil)
	require.Equal(t, []byte{1}, b)
}
