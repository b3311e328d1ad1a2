package otlpwire

import (
	"math"
	"strings"
	"time"
	"unicode/utf8"

	"google.golang.org/protobuf/encoding/protowire"
)

// A nested message is written in one pass: its tag, room for its length,
// then its body. When it is closed and its length needs more room or less,
// the body moves. Most messages (attributes, values) are shorter than 128
// bytes, for which one byte is room enough, and never move; a span moves
// once by a byte or two. A pass that sized every message before writing
// it, its sizes kept, took 1.8 times the CPU time on vigil's exec spans,
// and twice the allocations: the attribute package copies slice values
// out at each pass.

// mark is where an open message's body starts, and the room left before
// it for its length.
type mark struct{ start, room int }

// openMessage appends the tag of the message field num and one byte of
// room for its length.
func openMessage(b []byte, num protowire.Number) ([]byte, mark) {
	return openMessageRoom(b, num, 1)
}

// openMessageRoom appends the tag of the message field num and room
// bytes for its length: as many as its expected length needs, so that a
// large message need not move.
func openMessageRoom(b []byte, num protowire.Number, room int) ([]byte, mark) {
	b = appendTag(b, num, protowire.BytesType)
	b = append(b, make([]byte, room)...)
	return b, mark{start: len(b), room: room}
}

// closeMessage writes the length of the open message m, whose body runs to
// the end of b.
func closeMessage(b []byte, m mark) []byte {
	n := len(b) - m.start
	if n < 0x80 && m.room == 1 {
		b[m.start-1] = byte(n)
		return b
	}
	size := protowire.SizeVarint(uint64(n))
	if size != m.room {
		if size > m.room {
			b = append(b, make([]byte, size-m.room)...)
		}
		copy(b[m.start-m.room+size:], b[m.start:m.start+n])
		b = b[:m.start-m.room+size+n]
	}
	protowire.AppendVarint(b[:m.start-m.room], uint64(n))
	return b
}

// batchRoom is the room for the length of the message that holds n spans
// or records, each of about the size of vigil's: a guess, which spares
// moving the whole batch when right.
func batchRoom(n int) int {
	const itemSize = 2048
	return protowire.SizeVarint(uint64(n) * itemSize) // #nosec G115 -- a length
}

// appendTag appends the tag of the field num of type typ: one byte for the
// fields numbered below 16, as all but one here are.
func appendTag(b []byte, num protowire.Number, typ protowire.Type) []byte {
	if num >= 16 {
		return appendLongTag(b, num, typ)
	}
	return append(b, byte(num)<<3|byte(typ))
}

// appendLongTag appends a tag of more than one byte; it stays out of
// appendTag, which the compiler then inlines.
func appendLongTag(b []byte, num protowire.Number, typ protowire.Type) []byte {
	return protowire.AppendTag(b, num, typ)
}

// appendLen appends the length of a length-delimited value, most often one
// byte.
func appendLen(b []byte, n int) []byte {
	if n < 0x80 {
		return append(b, byte(n))
	}
	return protowire.AppendVarint(b, uint64(n)) // #nosec G115 -- a length
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
	if !utf8.ValidString(s) {
		s = toValidUTF8(s)
	}
	b = appendTag(b, num, protowire.BytesType)
	b = appendLen(b, len(s))
	return append(b, s...)
}

// toValidUTF8 returns s with each run of bytes that is not UTF-8 replaced
// by U+FFFD.
func toValidUTF8(s string) string {
	return strings.ToValidUTF8(s, string(utf8.RuneError))
}

// appendBytes appends the bytes field num unless v is empty.
func appendBytes(b []byte, num protowire.Number, v []byte) []byte {
	if len(v) == 0 {
		return b
	}
	return appendBytesAlways(b, num, v)
}

// appendBytesAlways appends the bytes field num even when v is empty.
func appendBytesAlways(b []byte, num protowire.Number, v []byte) []byte {
	b = appendTag(b, num, protowire.BytesType)
	b = appendLen(b, len(v))
	return append(b, v...)
}

// appendVarint appends the varint field num (uint32, int32, int64, an
// enum) unless v is zero.
func appendVarint(b []byte, num protowire.Number, v uint64) []byte {
	if v == 0 {
		return b
	}
	b = appendTag(b, num, protowire.VarintType)
	return protowire.AppendVarint(b, v)
}

// appendFixed32 appends the fixed32 field num unless v is zero.
func appendFixed32(b []byte, num protowire.Number, v uint32) []byte {
	if v == 0 {
		return b
	}
	b = appendTag(b, num, protowire.Fixed32Type)
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
	b = appendTag(b, num, protowire.Fixed64Type)
	return protowire.AppendFixed64(b, nanos)
}

// count is a count of dropped items as OTLP's uint32 holds it: negative
// counts are 0, and counts past its range its largest value.
func count(n int) uint64 {
	return uint64(min(max(int64(n), 0), math.MaxUint32)) // #nosec G115 -- clamped
}
