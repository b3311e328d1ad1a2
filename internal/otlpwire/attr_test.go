package otlpwire_test

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/sdk/instrumentation"
	"go.opentelemetry.io/otel/trace"
	commonpb "go.opentelemetry.io/proto/otlp/common/v1"

	"github.com/vigil-otel/vigil/internal/otlpwire"
	"github.com/vigil-otel/vigil/semconv"
)

// keys are distinct attribute keys for the tests. They are semconv's,
// whatever the types of the values they are given here, as no key may be
// spelled outside package semconv.
func keys() []attribute.Key {
	return []attribute.Key{
		semconv.ProcessPIDKey, semconv.ProcessParentPIDKey, semconv.ProcessExecutablePathKey,
		semconv.ProcessExecutableNameKey, semconv.ProcessCommandArgsKey, semconv.ProcessUserIDKey,
		semconv.ProcessRealUserIDKey, semconv.ProcessWorkingDirectoryKey, semconv.ProcessInteractiveKey,
		semconv.ProcessExitCodeKey, semconv.CICDPipelineNameKey, semconv.CICDPipelineRunIDKey,
		semconv.CICDPipelineRunURLFullKey, semconv.CICDPipelineTaskNameKey, semconv.CICDPipelineTaskRunIDKey,
		semconv.CICDPipelineTaskRunURLFullKey, semconv.CICDWorkerIDKey, semconv.CICDWorkerNameKey,
		semconv.CIStepKey, semconv.CISystemKey, semconv.VCSChangeIDKey, semconv.VCSProviderNameKey,
		semconv.VCSRefHeadNameKey, semconv.VCSRefHeadRevisionKey, semconv.VCSRepositoryURLFullKey,
		semconv.SecurityRuleNameKey, semconv.SecurityRuleDescriptionKey, semconv.SecurityRuleCategoryKey,
		semconv.SecurityRuleRulesetNameKey, semconv.SecurityRuleReferenceKey, semconv.SecurityRuleVersionKey,
		semconv.ThreatFrameworkKey, semconv.ThreatTacticIDKey, semconv.ThreatTacticNameKey,
		semconv.ThreatTechniqueIDKey, semconv.ThreatTechniqueNameKey, semconv.ThreatTechniqueSubtechniqueIDKey,
		semconv.ThreatTechniqueSubtechniqueNameKey, semconv.VigilLossStageKey, semconv.VigilRecipeImportanceKey,
		semconv.VigilProcessDetectionsKey, semconv.VigilProcessAncestorsKey, semconv.VigilSequenceStepsKey,
		semconv.VigilSpanEndKey, semconv.ServiceNameKey, semconv.ServiceVersionKey, semconv.HostNameKey,
	}
}

// attrCase is an attribute and the value the SDK's exporters send of it.
type attrCase struct {
	name string
	kv   attribute.KeyValue
	want *commonpb.AnyValue
}

// attrCases are attributes of every type, each with a distinct key:
// zero and empty values, lengths whose varint takes one, two and three
// bytes, and strings that are not UTF-8.
func attrCases() []attrCase {
	k := keys()
	return append(utf8Cases(),
		attrCase{"string not UTF-8", k[22].String("a\xffb\xfe\xfdc\xe2\x82"), stringValue("a\uFFFDb\uFFFDc\uFFFD")},
		attrCase{"string slice not UTF-8", k[23].StringSlice([]string{"", "\xff"}), arrayValue(stringValue(""), stringValue("\uFFFD"))},
		attrCase{"key not UTF-8", attribute.KeyValue{Key: k[24] + "\xff", Value: attribute.BoolValue(true)}, boolValue(true)},
	)
}

// utf8Cases are the attributes of attrCases whose strings are UTF-8: those
// the SDK's exporters can send.
func utf8Cases() []attrCase {
	long, longer := strings.Repeat("a", 200), strings.Repeat("b", 20000)
	argv := []string{"gcc", "-O2", "-c", "src/main.c", "-o", "obj/main.o"}
	k := keys()
	cases := []attrCase{
		{"bool", k[0].Bool(true), boolValue(true)},
		{"bool false", k[1].Bool(false), boolValue(false)},
		{"int", k[2].Int64(4242), intValue(4242)},
		{"int zero", k[3].Int(0), intValue(0)},
		{"int negative", k[4].Int64(-1), intValue(-1)},
		{"float", k[5].Float64(1.5), doubleValue(1.5)},
		{"float zero", k[6].Float64(0), doubleValue(0)},
		{"string", k[7].String("gcc"), stringValue("gcc")},
		{"string empty", k[8].String(""), stringValue("")},
		{"string 200 bytes", k[9].String(long), stringValue(long)},
		{"string 20000 bytes", k[10].String(longer), stringValue(longer)},
		{"bool slice", k[11].BoolSlice([]bool{true, false}), arrayValue(boolValue(true), boolValue(false))},
		{"int slice", k[12].Int64Slice([]int64{1, -2, 3, 1 << 40}), arrayValue(intValue(1), intValue(-2), intValue(3), intValue(1<<40))},
		{"float slice", k[13].Float64Slice([]float64{0.5, -1}), arrayValue(doubleValue(0.5), doubleValue(-1))},
		{"string slice", k[14].StringSlice(argv), arrayValue(stringValue("gcc"), stringValue("-O2"), stringValue("-c"),
			stringValue("src/main.c"), stringValue("-o"), stringValue("obj/main.o"))},
		{"empty string slice", k[15].StringSlice(nil), arrayValue()},
		{"empty int slice", k[16].Int64Slice([]int64{}), arrayValue()},
		{"bytes", k[17].ByteSlice([]byte{0, 1, 0xff}), bytesValue([]byte{0, 1, 0xff})},
		{"empty bytes", k[18].ByteSlice(nil), bytesValue(nil)},
		{"slice", k[19].Slice(attribute.StringValue("x"), attribute.IntValue(2), attribute.SliceValue()),
			arrayValue(stringValue("x"), intValue(2), arrayValue())},
		{"map", k[20].Map(k[0].String("v"), k[1].Bool(true)), &commonpb.AnyValue{Value: &commonpb.AnyValue_KvlistValue{
			KvlistValue: &commonpb.KeyValueList{Values: []*commonpb.KeyValue{
				// Sorted by key, as attribute.Value.AsMap gives them.
				{Key: string(k[1]), Value: boolValue(true)}, {Key: string(k[0]), Value: stringValue("v")},
			}},
		}}},
		{"empty", attribute.KeyValue{Key: k[21]}, &commonpb.AnyValue{}},
		{"no key", attribute.KeyValue{Value: attribute.IntValue(1)}, intValue(1)},
	}
	return cases
}

// attrs returns the attributes of cases.
func attrs(cases []attrCase) []attribute.KeyValue {
	out := make([]attribute.KeyValue, len(cases))
	for i, c := range cases {
		out[i] = c.kv
	}
	return out
}

// wantAttrs returns the key-values the SDK's exporters send of cases.
func wantAttrs(cases []attrCase) []*commonpb.KeyValue {
	out := make([]*commonpb.KeyValue, len(cases))
	for i, c := range cases {
		out[i] = &commonpb.KeyValue{Key: strings.ToValidUTF8(string(c.kv.Key), "\uFFFD"), Value: c.want}
	}
	return out
}

func boolValue(v bool) *commonpb.AnyValue {
	return &commonpb.AnyValue{Value: &commonpb.AnyValue_BoolValue{BoolValue: v}}
}

func intValue(v int64) *commonpb.AnyValue {
	return &commonpb.AnyValue{Value: &commonpb.AnyValue_IntValue{IntValue: v}}
}

func doubleValue(v float64) *commonpb.AnyValue {
	return &commonpb.AnyValue{Value: &commonpb.AnyValue_DoubleValue{DoubleValue: v}}
}

func stringValue(v string) *commonpb.AnyValue {
	return &commonpb.AnyValue{Value: &commonpb.AnyValue_StringValue{StringValue: v}}
}

func bytesValue(v []byte) *commonpb.AnyValue {
	return &commonpb.AnyValue{Value: &commonpb.AnyValue_BytesValue{BytesValue: v}}
}

func arrayValue(vals ...*commonpb.AnyValue) *commonpb.AnyValue {
	return &commonpb.AnyValue{Value: &commonpb.AnyValue_ArrayValue{ArrayValue: &commonpb.ArrayValue{Values: vals}}}
}

// TestAttributeValues encodes each attribute alone on a span and checks
// the value the OTLP types and the Collector's pdata decode.
func TestAttributeValues(t *testing.T) {
	for _, c := range attrCases() {
		t.Run(c.name, func(t *testing.T) {
			span := otlpwire.Span{
				Name:        "s",
				SpanContext: trace.NewSpanContext(trace.SpanContextConfig{TraceID: trace.TraceID{1}, SpanID: trace.SpanID{2}}),
				Start:       time.Unix(1, 0),
				Attributes:  [][]attribute.KeyValue{{c.kv}},
			}
			b := otlpwire.AppendTracesRequest(nil, nil, instrumentation.Scope{}, []otlpwire.Span{span})
			got := decodeTraces(t, b).ResourceSpans[0].ScopeSpans[0].Spans[0].Attributes
			requireProtoEqual(t, &commonpb.KeyValueList{Values: wantAttrs([]attrCase{c})},
				&commonpb.KeyValueList{Values: got})

			req := ptraceotlp.NewExportRequest()
			require.NoError(t, req.UnmarshalProto(b))
			pattrs := req.Traces().ResourceSpans().At(0).ScopeSpans().At(0).Spans().At(0).Attributes()
			requirePdataAttrs(t, wantAttrs([]attrCase{c}), pattrs)
		})
	}
}

// requirePdataAttrs checks that pdata decoded the key-values want.
func requirePdataAttrs(t *testing.T, want []*commonpb.KeyValue, got pcommon.Map) {
	t.Helper()
	require.Equal(t, len(want), got.Len())
	for _, kv := range want {
		v, ok := got.Get(kv.Key)
		require.True(t, ok, "key %q", kv.Key)
		require.Equal(t, rawValue(kv.Value), v.AsRaw(), "key %q", kv.Key)
	}
}

// rawValue returns what pdata's Value.AsRaw gives for v.
func rawValue(v *commonpb.AnyValue) any {
	switch v := v.Value.(type) {
	case *commonpb.AnyValue_BoolValue:
		return v.BoolValue
	case *commonpb.AnyValue_IntValue:
		return v.IntValue
	case *commonpb.AnyValue_DoubleValue:
		return v.DoubleValue
	case *commonpb.AnyValue_StringValue:
		return v.StringValue
	case *commonpb.AnyValue_BytesValue:
		if len(v.BytesValue) == 0 {
			return []byte(nil) // as pdata gives empty bytes
		}
		return v.BytesValue
	case *commonpb.AnyValue_ArrayValue:
		out := []any{}
		for _, e := range v.ArrayValue.Values {
			out = append(out, rawValue(e))
		}
		return out
	case *commonpb.AnyValue_KvlistValue:
		out := map[string]any{}
		for _, kv := range v.KvlistValue.Values {
			out[kv.Key] = rawValue(kv.Value)
		}
		return out
	default:
		return nil
	}
}
