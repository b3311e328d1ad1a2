package exporter

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"sync"
	"time"
	"unicode/utf8"

	"go.opentelemetry.io/otel/attribute"
	sdklog "go.opentelemetry.io/otel/sdk/log"
)

// jsonlExporter writes each record as one JSON object on its own line:
// the record's fields, then its attributes under their own keys, flat, in
// the record's order. The fields vigil adds do not collide with attribute
// keys, which always hold a dot.
//
// A buffered one writes its lines at most flushDelay after they were
// made, when the buffer fills, and at ForceFlush and Shutdown: a write
// per detection was a tenth of what a detection cost. Each line goes out
// in one write, so that it never mingles with what others write to the
// same file (a watched command's output on stdout).
type jsonlExporter struct {
	mu  sync.Mutex
	out io.Writer
	// w buffers out; nil when each line is written as it is made.
	w   *bufio.Writer
	buf []byte
	// flushing is the pending flush, nil when everything is written.
	flushing *time.Timer
	// err is the failure of a flush no caller waited for, which the next
	// call returns.
	err error
}

// flushDelay bounds how long a line waits in the buffer.
const flushDelay = time.Second

var _ sdklog.Exporter = (*jsonlExporter)(nil)

// newJSONL writes JSON lines to out, buffered or not.
func newJSONL(out io.Writer, buffered bool) *jsonlExporter {
	e := &jsonlExporter{out: out}
	if buffered {
		e.w = bufio.NewWriterSize(out, 64<<10)
	}
	return e
}

// Export writes records in order.
func (e *jsonlExporter) Export(_ context.Context, records []sdklog.Record) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	earlier := e.err
	e.err = nil
	for i := range records {
		e.buf = appendJSONLine(e.buf[:0], &records[i])
		if err := e.write(e.buf); err != nil {
			return errors.Join(earlier, err)
		}
	}
	if e.w != nil && e.w.Buffered() > 0 && e.flushing == nil {
		e.flushing = time.AfterFunc(flushDelay, e.flushLater)
	}
	return earlier
}

// write writes one line whole; e.mu is held.
func (e *jsonlExporter) write(line []byte) error {
	if e.w == nil {
		if _, err := e.out.Write(line); err != nil {
			return fmt.Errorf("write JSON line: %w", err)
		}
		return nil
	}
	// A line that does not fit goes after what waits, and by itself when
	// it is larger than the buffer (bufio writes it directly).
	if len(line) > e.w.Available() && e.w.Buffered() > 0 {
		if err := e.flush(); err != nil {
			return err
		}
	}
	if _, err := e.w.Write(line); err != nil {
		e.w.Reset(e.out)
		return fmt.Errorf("write JSON line: %w", err)
	}
	return nil
}

// flushLater writes what waits, for the timer Export set.
func (e *jsonlExporter) flushLater() {
	e.mu.Lock()
	defer e.mu.Unlock()
	if err := e.flush(); err != nil {
		e.err = err
	}
}

// flush writes what waits; e.mu is held. Lines that fail to go out are
// dropped, so that the next ones can.
func (e *jsonlExporter) flush() error {
	if e.w == nil {
		return nil
	}
	if e.flushing != nil {
		e.flushing.Stop()
		e.flushing = nil
	}
	if err := e.w.Flush(); err != nil {
		e.w.Reset(e.out)
		return fmt.Errorf("write JSON lines: %w", err)
	}
	return nil
}

// appendJSONLine appends r's line to b.
func appendJSONLine(b []byte, r *sdklog.Record) []byte {
	b = append(b, `{"time":"`...)
	b = r.Timestamp().UTC().AppendFormat(b, time.RFC3339Nano)
	b = append(b, `","event_name":`...)
	b = appendJSONString(b, r.EventName())
	b = append(b, `,"severity_number":`...)
	b = strconv.AppendInt(b, int64(r.Severity()), 10)
	b = append(b, `,"severity_text":`...)
	b = appendJSONString(b, r.SeverityText())
	b = append(b, `,"body":`...)
	b = appendJSONString(b, r.Body().AsString())
	b = append(b, `,"trace_id":"`...)
	if tid := r.TraceID(); tid.IsValid() {
		b = append(b, tid.String()...)
	}
	b = append(b, `","span_id":"`...)
	if sid := r.SpanID(); sid.IsValid() {
		b = append(b, sid.String()...)
	}
	b = append(b, '"')
	r.WalkAttributes(func(kv attribute.KeyValue) bool {
		b = append(b, ',')
		b = appendJSONString(b, string(kv.Key))
		b = append(b, ':')
		b = appendJSONValue(b, kv.Value)
		return true
	})
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

// Shutdown writes what waits; the writer belongs to the caller, who
// closes it.
func (e *jsonlExporter) Shutdown(ctx context.Context) error { return e.ForceFlush(ctx) }

// ForceFlush writes what waits.
func (e *jsonlExporter) ForceFlush(context.Context) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	earlier := e.err
	e.err = nil
	return errors.Join(earlier, e.flush())
}
