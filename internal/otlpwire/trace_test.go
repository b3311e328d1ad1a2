package otlpwire_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/sdk/instrumentation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
	resourcepb "go.opentelemetry.io/proto/otlp/resource/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"

	"github.com/vigil-otel/vigil/internal/otlpwire"
	"github.com/vigil-otel/vigil/semconv"
)

// testResource and testScope are those of the requests of the tests.
func testResource() *resource.Resource {
	return resource.NewWithAttributes(semconv.SchemaURL, semconv.ServiceNameKey.String("vigil"), semconv.HostNameKey.String("runner-7"))
}

func testScope() instrumentation.Scope {
	return instrumentation.Scope{Name: "github.com/vigil-otel/vigil", Version: "1.2.3", SchemaURL: semconv.SchemaURL,
		Attributes: attribute.NewSet(semconv.CISystemKey.String("github_actions"))}
}

// TestAppendTracesRequest encodes spans that set every field, and one
// that sets none it may leave out, after what dst held, and checks each
// field as the OTLP types and the Collector's pdata decode it.
func TestAppendTracesRequest(t *testing.T) {
	start := time.Date(2026, 5, 1, 12, 0, 0, 123456789, time.UTC)
	ts, err := trace.ParseTraceState("vendor=value")
	require.NoError(t, err)
	parent := trace.NewSpanContext(trace.SpanContextConfig{TraceID: trace.TraceID{1, 2, 3}, SpanID: trace.SpanID{4, 5},
		TraceFlags: trace.FlagsSampled, Remote: true})
	k, cases := keys(), attrCases()
	full := otlpwire.Span{
		Name: "exec gcc",
		SpanContext: trace.NewSpanContext(trace.SpanContextConfig{TraceID: trace.TraceID{1, 2, 3}, SpanID: trace.SpanID{6, 7},
			TraceFlags: trace.FlagsSampled, TraceState: ts}),
		Parent:     parent,
		Kind:       trace.SpanKindServer,
		Start:      start,
		End:        start.Add(time.Second),
		Attributes: [][]attribute.KeyValue{attrs(cases[:2]), nil, attrs(cases[2:])},
		Events: []otlpwire.Event{
			{Name: semconv.DetectionEventName, Time: start.Add(time.Millisecond), DroppedAttributes: 2,
				Attributes: [][]attribute.KeyValue{{k[0].String("reverse-shell")}, {k[1].Int(3)}}},
			{Name: "bare"},
		},
		Links: []sdktrace.Link{
			{SpanContext: parent, Attributes: []attribute.KeyValue{k[2].Bool(true)}, DroppedAttributeCount: 1},
			{Attributes: []attribute.KeyValue{k[3].String("no context")}},
		},
		Status:            sdktrace.Status{Code: codes.Error, Description: "exit status 1"},
		DroppedAttributes: 1, DroppedEvents: 2, DroppedLinks: 1 << 40,
	}
	bare := otlpwire.Span{
		SpanContext: trace.NewSpanContext(trace.SpanContextConfig{TraceID: trace.TraceID{9}, SpanID: trace.SpanID{8}}),
		Kind:        trace.SpanKind(42),
		Status:      sdktrace.Status{Code: codes.Ok},
	}

	prefix := []byte("held before")
	b := otlpwire.AppendTracesRequest(prefix, testResource(), testScope(), []otlpwire.Span{full, bare})
	require.Equal(t, "held before", string(b[:len(prefix)]))
	b = b[len(prefix):]

	nanos := uint64(start.UnixNano())
	want := &coltracepb.ExportTraceServiceRequest{ResourceSpans: []*tracepb.ResourceSpans{{
		Resource: &resourcepb.Resource{Attributes: []*commonpb.KeyValue{
			{Key: string(semconv.HostNameKey), Value: stringValue("runner-7")},
			{Key: string(semconv.ServiceNameKey), Value: stringValue("vigil")},
		}},
		SchemaUrl: semconv.SchemaURL,
		ScopeSpans: []*tracepb.ScopeSpans{{
			Scope: &commonpb.InstrumentationScope{Name: "github.com/vigil-otel/vigil", Version: "1.2.3",
				Attributes: []*commonpb.KeyValue{{Key: string(semconv.CISystemKey), Value: stringValue("github_actions")}}},
			SchemaUrl: semconv.SchemaURL,
			Spans: []*tracepb.Span{{
				TraceId:           []byte{1, 2, 3, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0},
				SpanId:            []byte{6, 7, 0, 0, 0, 0, 0, 0},
				TraceState:        "vendor=value",
				ParentSpanId:      []byte{4, 5, 0, 0, 0, 0, 0, 0},
				Flags:             0x301, // sampled, remote parent
				Name:              "exec gcc",
				Kind:              tracepb.Span_SPAN_KIND_SERVER,
				StartTimeUnixNano: nanos,
				EndTimeUnixNano:   nanos + 1e9,
				Attributes:        wantAttrs(cases),
				Events: []*tracepb.Span_Event{
					{TimeUnixNano: nanos + 1e6, Name: semconv.DetectionEventName, DroppedAttributesCount: 2,
						Attributes: []*commonpb.KeyValue{
							{Key: string(k[0]), Value: stringValue("reverse-shell")}, {Key: string(k[1]), Value: intValue(3)},
						}},
					{Name: "bare"},
				},
				Links: []*tracepb.Span_Link{
					{TraceId: []byte{1, 2, 3, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}, SpanId: []byte{4, 5, 0, 0, 0, 0, 0, 0},
						Flags: 0x301, DroppedAttributesCount: 1,
						Attributes: []*commonpb.KeyValue{{Key: string(k[2]), Value: boolValue(true)}}},
					// The SDK's exporter sends an invalid context's ids, zeros.
					{TraceId: make([]byte, 16), SpanId: make([]byte, 8), Flags: 0x100,
						Attributes: []*commonpb.KeyValue{{Key: string(k[3]), Value: stringValue("no context")}}},
				},
				DroppedAttributesCount: 1,
				DroppedEventsCount:     2,
				DroppedLinksCount:      1<<32 - 1, // clamped
				Status:                 &tracepb.Status{Code: tracepb.Status_STATUS_CODE_ERROR, Message: "exit status 1"},
			}, {
				TraceId: []byte{9, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0},
				SpanId:  []byte{8, 0, 0, 0, 0, 0, 0, 0},
				Flags:   0x100, // not sampled, a local parent
				Kind:    tracepb.Span_SPAN_KIND_UNSPECIFIED,
				Status:  &tracepb.Status{Code: tracepb.Status_STATUS_CODE_OK},
			}},
		}},
	}}}
	requireProtoEqual(t, want, decodeTraces(t, b))

	req := ptraceotlp.NewExportRequest()
	require.NoError(t, req.UnmarshalProto(b))
	requirePdataTraces(t, want, req.Traces())
}

// requirePdataTraces checks each field of got, as pdata decoded it,
// against want.
func requirePdataTraces(t *testing.T, want *coltracepb.ExportTraceServiceRequest, got ptrace.Traces) {
	t.Helper()
	require.Equal(t, len(want.ResourceSpans), got.ResourceSpans().Len())
	for i, wrs := range want.ResourceSpans {
		rs := got.ResourceSpans().At(i)
		requirePdataAttrs(t, wrs.Resource.Attributes, rs.Resource().Attributes())
		require.Equal(t, wrs.SchemaUrl, rs.SchemaUrl())
		require.Equal(t, len(wrs.ScopeSpans), rs.ScopeSpans().Len())
		for j, wss := range wrs.ScopeSpans {
			ss := rs.ScopeSpans().At(j)
			require.Equal(t, wss.Scope.Name, ss.Scope().Name())
			require.Equal(t, wss.Scope.Version, ss.Scope().Version())
			requirePdataAttrs(t, wss.Scope.Attributes, ss.Scope().Attributes())
			require.Equal(t, wss.SchemaUrl, ss.SchemaUrl())
			require.Equal(t, len(wss.Spans), ss.Spans().Len())
			for k, w := range wss.Spans {
				requirePdataSpan(t, w, ss.Spans().At(k))
			}
		}
	}
}

// requirePdataSpan checks each field of got against want.
func requirePdataSpan(t *testing.T, want *tracepb.Span, got ptrace.Span) {
	t.Helper()
	tid, sid, psid := got.TraceID(), got.SpanID(), got.ParentSpanID()
	require.Equal(t, want.TraceId, tid[:])
	require.Equal(t, want.SpanId, sid[:])
	if want.ParentSpanId == nil {
		require.True(t, psid.IsEmpty())
	} else {
		require.Equal(t, want.ParentSpanId, psid[:])
	}
	require.Equal(t, want.TraceState, got.TraceState().AsRaw())
	require.Equal(t, want.Flags, got.Flags())
	require.Equal(t, want.Name, got.Name())
	require.Equal(t, int32(want.Kind), int32(got.Kind()))
	require.Equal(t, pcommon.Timestamp(want.StartTimeUnixNano), got.StartTimestamp())
	require.Equal(t, pcommon.Timestamp(want.EndTimeUnixNano), got.EndTimestamp())
	requirePdataAttrs(t, want.Attributes, got.Attributes())
	require.Equal(t, want.DroppedAttributesCount, got.DroppedAttributesCount())
	require.Equal(t, len(want.Events), got.Events().Len())
	for i, we := range want.Events {
		e := got.Events().At(i)
		require.Equal(t, pcommon.Timestamp(we.TimeUnixNano), e.Timestamp())
		require.Equal(t, we.Name, e.Name())
		requirePdataAttrs(t, we.Attributes, e.Attributes())
		require.Equal(t, we.DroppedAttributesCount, e.DroppedAttributesCount())
	}
	require.Equal(t, want.DroppedEventsCount, got.DroppedEventsCount())
	require.Equal(t, len(want.Links), got.Links().Len())
	for i, wl := range want.Links {
		l := got.Links().At(i)
		ltid, lsid := l.TraceID(), l.SpanID()
		require.Equal(t, wl.TraceId, ltid[:])
		require.Equal(t, wl.SpanId, lsid[:])
		require.Equal(t, wl.TraceState, l.TraceState().AsRaw())
		requirePdataAttrs(t, wl.Attributes, l.Attributes())
		require.Equal(t, wl.DroppedAttributesCount, l.DroppedAttributesCount())
		require.Equal(t, wl.Flags, l.Flags())
	}
	require.Equal(t, want.DroppedLinksCount, got.DroppedLinksCount())
	require.Equal(t, int32(want.Status.Code), int32(got.Status().Code()))
	require.Equal(t, want.Status.Message, got.Status().Message())
}

// TestAppendTracesRequestNoSpans checks that no spans make no request.
func TestAppendTracesRequestNoSpans(t *testing.T) {
	b := otlpwire.AppendTracesRequest([]byte{1}, testResource(), testScope(), nil)
	require.Equal(t, []byte{1}, b)
}

// TestAppendTracesRequestBare checks a request without resource or scope.
func TestAppendTracesRequestBare(t *testing.T) {
	span := otlpwire.Span{SpanContext: trace.NewSpanContext(trace.SpanContextConfig{TraceID: trace.TraceID{1}, SpanID: trace.SpanID{1}})}
	b := otlpwire.AppendTracesRequest(nil, nil, instrumentation.Scope{}, []otlpwire.Span{span})
	want := &coltracepb.ExportTraceServiceRequest{ResourceSpans: []*tracepb.ResourceSpans{{
		ScopeSpans: []*tracepb.ScopeSpans{{Spans: []*tracepb.Span{{
			TraceId: []byte{1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0},
			SpanId:  []byte{1, 0, 0, 0, 0, 0, 0, 0},
			Flags:   0x100,
			Status:  &tracepb.Status{},
		}}}},
	}}}
	requireProtoEqual(t, want, decodeTraces(t, b))
}

// TestKindsAndStatusCodes checks the mapping of every span kind and status
// code: OTLP numbers Ok and Error the other way round from the API.
func TestKindsAndStatusCodes(t *testing.T) {
	for _, c := range []struct {
		kind     trace.SpanKind
		code     codes.Code
		wantKind tracepb.Span_SpanKind
		wantCode tracepb.Status_StatusCode
	}{
		{trace.SpanKindUnspecified, codes.Unset, tracepb.Span_SPAN_KIND_UNSPECIFIED, tracepb.Status_STATUS_CODE_UNSET},
		{trace.SpanKindInternal, codes.Error, tracepb.Span_SPAN_KIND_INTERNAL, tracepb.Status_STATUS_CODE_ERROR},
		{trace.SpanKindServer, codes.Ok, tracepb.Span_SPAN_KIND_SERVER, tracepb.Status_STATUS_CODE_OK},
		{trace.SpanKindClient, codes.Code(7), tracepb.Span_SPAN_KIND_CLIENT, tracepb.Status_STATUS_CODE_UNSET},
		{trace.SpanKindProducer, codes.Unset, tracepb.Span_SPAN_KIND_PRODUCER, tracepb.Status_STATUS_CODE_UNSET},
		{trace.SpanKindConsumer, codes.Unset, tracepb.Span_SPAN_KIND_CONSUMER, tracepb.Status_STATUS_CODE_UNSET},
		{trace.SpanKind(6), codes.Unset, tracepb.Span_SPAN_KIND_UNSPECIFIED, tracepb.Status_STATUS_CODE_UNSET},
	} {
		span := otlpwire.Span{Kind: c.kind, Status: sdktrace.Status{Code: c.code}}
		got := decodeTraces(t, otlpwire.AppendTracesRequest(nil, nil, instrumentation.Scope{}, []otlpwire.Span{span}))
		s := got.ResourceSpans[0].ScopeSpans[0].Spans[0]
		require.Equal(t, c.wantKind, s.Kind, "kind %v", c.kind)
		require.Equal(t, c.wantCode, s.Status.Code, "code %v", c.code)
	}
}
