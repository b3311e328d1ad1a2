package otlpwire_test

import (
	"testing"

	"github.com/stretchr/testify/require"
	collogspb "go.opentelemetry.io/proto/otlp/collector/logs/v1"
	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"

	"github.com/vigil-otel/vigil/internal/otlpwire"
)

// marshal returns m's protobuf bytes.
func marshal(t *testing.T, m proto.Message) []byte {
	t.Helper()
	b, err := proto.Marshal(m)
	require.NoError(t, err)
	return b
}

// TestParseResponse reads responses that proto.Marshal made, and some made
// by hand as a newer or odd receiver could send them.
func TestParseResponse(t *testing.T) {
	partial := marshal(t, &coltracepb.ExportTraceServiceResponse{PartialSuccess: &coltracepb.ExportTracePartialSuccess{
		RejectedSpans: 3, ErrorMessage: "3 spans too old"}})
	// An unknown field (7, a varint) before and inside partial_success.
	var unknown []byte
	unknown = protowire.AppendTag(unknown, 7, protowire.VarintType)
	unknown = protowire.AppendVarint(unknown, 1)
	inner := append(append([]byte{}, unknown...), marshal(t, &collogspb.ExportLogsPartialSuccess{RejectedLogRecords: 5})...)
	withUnknown := protowire.AppendTag(append([]byte{}, unknown...), 1, protowire.BytesType)
	withUnknown = protowire.AppendBytes(withUnknown, inner)

	for _, c := range []struct {
		name     string
		body     []byte
		rejected int64
		message  string
	}{
		{"empty", nil, 0, ""},
		{"full success", marshal(t, &coltracepb.ExportTraceServiceResponse{}), 0, ""},
		{"empty partial success", marshal(t, &collogspb.ExportLogsServiceResponse{
			PartialSuccess: &collogspb.ExportLogsPartialSuccess{}}), 0, ""},
		{"traces", partial, 3, "3 spans too old"},
		{"logs, a warning only", marshal(t, &collogspb.ExportLogsServiceResponse{
			PartialSuccess: &collogspb.ExportLogsPartialSuccess{ErrorMessage: "slow down"}}), 0, "slow down"},
		{"negative", marshal(t, &collogspb.ExportLogsServiceResponse{
			PartialSuccess: &collogspb.ExportLogsPartialSuccess{RejectedLogRecords: -1}}), -1, ""},
		{"unknown fields", withUnknown, 5, ""},
		// A message sent in two parts is merged, as proto.Unmarshal does.
		{"in two parts", append(append([]byte{}, partial...), marshal(t, &coltracepb.ExportTraceServiceResponse{
			PartialSuccess: &coltracepb.ExportTracePartialSuccess{ErrorMessage: "later"}})...), 3, "later"},
		{"message not UTF-8", []byte{0x0a, 0x04, 0x12, 0x02, 'a', 0xff}, 0, "a\uFFFD"},
	} {
		t.Run(c.name, func(t *testing.T) {
			rejected, message, err := otlpwire.ParseResponse(c.body)
			require.NoError(t, err)
			require.Equal(t, c.rejected, rejected)
			require.Equal(t, c.message, message)
		})
	}
}

// TestParseResponseMalformed checks that bytes that are not a message are
// an error.
func TestParseResponseMalformed(t *testing.T) {
	for name, body := range map[string][]byte{
		"truncated tag":             {0x80},
		"length past the end":       {0x0a, 0x05, 0x08},
		"truncated partial success": {0x0a, 0x02, 0x08, 0x80},
		"field number zero":         {0x00, 0x00},
	} {
		t.Run(name, func(t *testing.T) {
			_, _, err := otlpwire.ParseResponse(body)
			require.ErrorContains(t, err, "parse export response")
		})
	}
}
