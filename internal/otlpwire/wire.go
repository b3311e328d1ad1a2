package otlpwire

import (
	"math"
	"strings"
	"time"
	"unicode/utf8"

	"google.golang.org/protobuf/encoding/protowire"
)

// A nested message is written in one pass: its tag, one byte for its
// length, then its body. When it is closed and its length needs more than
// one byte, the body moves up to make room. Most messages (attributes,
// values) are shorter than 128 bytes and never move; a span moves once by
// a byte or two.

// openMessage appends the tag of the message field num and room for its
// length, and returns where its body starts, for [closeMessage].
func openMessage(b []byte, num protowire.Number) ([]byte, int) {
	b = protowire.AppendTag(b, num, protowire.BytesType)
	b = append(b, 0)
	return b, len(b)
}

// closeMessage writes the length of the message whose body starts at
// start and runs to the end of b.
func closeMessage(b []byte, start int) []byte {
	n := len(b) - start
	if n < 0x80 {
		b[start-1] = byte(n)
		return b
	}
	extra := protowire.SizeVarint(uint64(n)) - 1
	b = append(b, make([]byte, extra)...)
	copy(b[start+extra:], b[start:start+n])
	protowire.AppendVarint(b[:start-1], uint64(n))
	return b
}

// appendString appends the string field num unless s is empty, as proto3
// leaves out empty strings.
func appendString(b []byte, num protowire.Number, s string) []byte {
	if s == "" {
		return b
	}
	return appendStringAlways(b, num, s)
}

// appendStringAlways appends the string field num even when s is empty,
// as a member of a oneof or an element of a repeated field is.
func appendStringAlways(b []byte, num protowire.Number, s string) []byte {
	b = protowire.AppendTag(b, num, protowire.BytesType)
	return protowire.AppendString(b, validUTF8(s))
}

// validUTF8 returns s with each run of bytes that is not UTF-8 replaced by
// U+FFFD. Only a string that has some is copied.
func validUTF8(s string) string {
	if utf8.ValidString(s) {
		return s
	}
	return strings.ToValidUTF8(s, string(utf8.RuneError))
}

// appendBytes appends the bytes field num unless v is empty.
func appendBytes(b []byte, num protowire.Number, v []byte) []byte {
	if len(v) == 0 {
		return b
	}
	b = protowire.AppendTag(b, num, protowire.BytesType)
	return protowire.AppendBytes(b, v)
}

// appendVarint appends the varint field num (uint32, int32, int64, an
// enum) unless v is zero.
func appendVarint(b []byte, num protowire.Number, v uint64) []byte {
	if v == 0 {
		return b
	}
	b = protowire.AppendTag(b, num, protowire.VarintType)
	return protowire.AppendVarint(b, v)
}

// appendFixed32 appends the fixed32 field num unless v is zero.
func appendFixed32(b []byte, num protowire.Number, v uint32) []byte {
	if v == 0 {
		return b
	}
	b = protowire.AppendTag(b, num, protowire.Fixed32Type)
	return protowire.AppendFixed32(b, v)
}

// appendTime appends t as the fixed64 field num in nanoseconds since the
// Unix epoch, leaving it out for a time before the epoch (the zero
// time.Time among them), as the SDK's exporters send those as 0.
func appendTime(b []byte, num protowire.Number, t time.Time) []byte {
	nanos := uint64(max(0, t.UnixNano())) // #nosec G115 -- not negative
	if nanos == 0 {
		return b
	}
	b = protowire.AppendTag(b, num, protowire.Fixed64Type)
	return protowire.AppendFixed64(b, nanos)
}

// count is a count of dropped items as OTLP's uint32 holds it: negative
// counts are 0, and counts past its range its largest value.
func count(n int) uint64 {
	return uint64(min(max(int64(n), 0), math.MaxUint32)) // #nosec G115 -- clamped
}
