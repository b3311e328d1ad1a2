package otlpwire

import (
	"fmt"

	"google.golang.org/protobuf/encoding/protowire"
)

// Field numbers of ExportLogsServiceResponse and ExportTraceServiceResponse,
// which share their shape.
const (
	responsePartialSuccess = 1 // Export*ServiceResponse.partial_success
	partialRejected        = 1 // Export*PartialSuccess.rejected_log_records, .rejected_spans
	partialErrorMessage    = 2 // Export*PartialSuccess.error_message
)

// ParseResponse reads the partial success of an ExportLogsServiceResponse
// or ExportTraceServiceResponse: how many items the receiver rejected and
// why. Both are zero for a full success. As protobuf parsers do, it skips
// fields it does not know, and merges a message sent in several parts. The
// message, which is for people to read, has bytes that are not UTF-8
// replaced.
func ParseResponse(body []byte) (rejected int64, message string, err error) {
	err = eachField(body, func(num protowire.Number, typ protowire.Type, v []byte) error {
		if num != responsePartialSuccess || typ != protowire.BytesType {
			return nil
		}
		return eachField(v, func(num protowire.Number, typ protowire.Type, v []byte) error {
			switch {
			case num == partialRejected && typ == protowire.VarintType:
				n, _ := protowire.ConsumeVarint(v)
				rejected = int64(n) // #nosec G115 -- an int64 sent as its two's complement
			case num == partialErrorMessage && typ == protowire.BytesType:
				message = toValidUTF8(string(v))
			}
			return nil
		})
	})
	if err != nil {
		return 0, "", fmt.Errorf("parse export response: %w", err)
	}
	return rejected, message, nil
}

// eachField calls f with the number, type and value of each field of the
// message b, in order: a length-delimited value without its length, any
// other as it is encoded.
func eachField(b []byte, f func(protowire.Number, protowire.Type, []byte) error) error {
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return protowire.ParseError(n)
		}
		b = b[n:]
		n = protowire.ConsumeFieldValue(num, typ, b)
		if n < 0 {
			return protowire.ParseError(n)
		}
		v := b[:n]
		if typ == protowire.BytesType {
			v, _ = protowire.ConsumeBytes(v)
		}
		if err := f(num, typ, v); err != nil {
			return err
		}
		b = b[n:]
	}
	return nil
}
