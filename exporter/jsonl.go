package exporter

import (
	"bufio"
	"fmt"
	"io"
	"math"
	"strconv"
	"time"
	"unicode/utf8"

	"go.opentelemetry.io/otel/attribute"

	"github.com/vigil-otel/vigil/semconv"
)

// jsonlWriter writes each detection as one JSON object on its own line:
// the record's fields, then its attributes under their own keys, flat, in
// the record's order. The fields vigil adds do not collide with attribute
// keys, which always hold a dot.
//
// It runs in its output's goroutine, which hands it what waits: the lines
// are buffered and written when none waits any more, or the buffer is
// full, rather than one write each. Each line goes out in one write, so
// that it never mingles with what others write to the same file (a
// watched command's output on stdout).
type jsonlWriter struct {
	out io.Writer
	w   *bufio.Writer
	buf []byte
}

func newJSONL(out io.Writer) *jsonlWriter {
	return &jsonlWriter{out: out, w: bufio.NewWriterSize(out, 64<<10)}
}

// write writes records in order. Lines that fail to go out are dropped,
// so that the next ones can. A write that never returns (a pipe nobody
// reads) has its lines counted lost when the output is given up, though
// part of them may have reached the file: a line counts as written once
// the write holding it has returned.
func (e *jsonlWriter) write(records []record) error {
	for i := range records {
		e.buf = appendJSONLine(e.buf[:0], &records[i])
		// A line that does not fit goes after what waits, and by itself
		// when it is larger than the buffer (bufio writes it directly).
		if len(e.buf) > e.w.Available() && e.w.Buffered() > 0 {
			if err := e.flush(); err != nil {
				return err
			}
		}
		if _, err := e.w.Write(e.buf); err != nil {
			e.w.Reset(e.out)
			return fmt.Errorf("write JSON line: %w", err)
		}
	}
	return e.flush()
}

func (e *jsonlWriter) flush() error {
	if err := e.w.Flush(); err != nil {
		e.w.Reset(e.out)
		return fmt.Errorf("write JSON lines: %w", err)
	}
	return nil
}

// appendJSONLine appends r's line to b.
func appendJSONLine(b []byte, r *record) []byte {
	b = append(b, `{"time":"`...)
	b = r.Exec.Time.UTC().AppendFormat(b, time.RFC3339Nano)
	b = append(b, `","event_name":`...)
	b = appendJSONString(b, semconv.DetectionEventName)
	b = append(b, `,"severity_number":`...)
	b = strconv.AppendInt(b, int64(r.Severity), 10)
	b = append(b, `,"severity_text":`...)
	b = appendJSONString(b, r.SeverityText)
	b = append(b, `,"body":`...)
	b = appendJSONString(b, r.Body)
	b = append(b, `,"trace_id":"`...)
	if r.traceID.IsValid() {
		b = append(b, r.traceID.String()...)
	}
	b = append(b, `","span_id":"`...)
	if r.spanID.IsValid() {
		b = append(b, r.spanID.String()...)
	}
	b = append(b, '"')
	for _, list := range r.attributes() {
		for _, kv := range list {
			b = append(b, ',')
			b = appendJSONString(b, string(kv.Key))
			b = append(b, ':')
			b = appendJSONValue(b, kv.Value)
		}
	}
	return append(b, "}\n"...)
}

// appendJSONValue appends an attribute's value as JSON: a scalar, or an
// array of them.
func appendJSONValue(b []byte, v attribute.Value) []byte {
	switch v.Type() {
	case attribute.BOOL:
		return strconv.AppendBool(b, v.AsBool())
	case attribute.INT64:
		return strconv.AppendInt(b, v.AsInt64(), 10)
	case attribute.FLOAT64:
		return appendJSONFloat(b, v.AsFloat64())
	case attribute.STRING:
		return appendJSONString(b, v.AsString())
	case attribute.BOOLSLICE:
		return appendJSONArray(b, v.AsBoolSlice(), strconv.AppendBool)
	case attribute.INT64SLICE:
		return appendJSONArray(b, v.AsInt64Slice(), func(b []byte, n int64) []byte { return strconv.AppendInt(b, n, 10) })
	case attribute.FLOAT64SLICE:
		return appendJSONArray(b, v.AsFloat64Slice(), appendJSONFloat)
	case attribute.STRINGSLICE:
		return appendJSONArray(b, v.AsStringSlice(), appendJSONString)
	}
	return appendJSONString(b, v.String())
}

func appendJSONArray[T any](b []byte, s []T, each func([]byte, T) []byte) []byte {
	b = append(b, '[')
	for i, x := range s {
		if i > 0 {
			b = append(b, ',')
		}
		b = each(b, x)
	}
	return append(b, ']')
}

// appendJSONFloat appends f, or null for what JSON cannot say.
func appendJSONFloat(b []byte, f float64) []byte {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return append(b, "null"...)
	}
	return strconv.AppendFloat(b, f, 'g', -1, 64)
}

// appendJSONString appends s as a JSON string that reads back as
// encoding/json's does: quotes, backslashes, control characters, U+2028
// and U+2029 escaped, no HTML escaping; invalid UTF-8 becomes U+FFFD.
func appendJSONString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hex[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
