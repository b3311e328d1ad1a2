package pipeline

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"

	"github.com/vigil-otel/vigil/event"
	"github.com/vigil-otel/vigil/internal/outqueue"
)

// recordingBuffer bounds the events waiting to be written to the
// recording.
const recordingBuffer = 16 << 10

// newRecording writes the recording to w, one JSON object per event and
// line, from a goroutine of its own: a slow file or a pipe nobody reads
// loses lines of the recording, counted, and never holds up the reader.
func newRecording(w io.Writer) *outqueue.Queue[[]byte] {
	return outqueue.New("recording", recordingBuffer, 0, slog.Default(), func(lines [][]byte) error {
		for _, line := range lines {
			if _, err := w.Write(line); err != nil {
				return fmt.Errorf("write recording: %w", err)
			}
		}
		return nil
	})
}

// record hands ev to the recording, redacted unless the recording is raw;
// the reader goroutine encodes it, as the sensor reuses a fork's or an
// exit's memory once it is handled.
func (p *Pipeline) record(ev *event.Event) {
	if !p.recordRaw {
		ev = p.describe.Event(ev)
	}
	line, err := json.Marshal(ev)
	if err != nil {
		// An event is plain data: this does not happen.
		slog.Error("an event could not be recorded", "error", err)
		return
	}
	p.recording.Offer(append(line, '\n'))
}

// maxRecordingLine bounds one line of a recording: an event with the
// largest command line the sensor keeps, JSON-escaped, fits many times.
const maxRecordingLine = 4 << 20

// readRecording hands the events of a recording (one JSON object per
// line; empty lines are skipped) to handle in order, until the end of r
// or of ctx. It stops at the first line that is not an event (a JSON
// object without a kind is none), with an error naming the line, and
// returns how many events it handed on.
func readRecording(ctx context.Context, r io.Reader, handle func(*event.Event)) (uint64, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), maxRecordingLine)
	var events uint64
	for line := 1; sc.Scan() && ctx.Err() == nil; line++ {
		if len(sc.Bytes()) == 0 {
			continue
		}
		ev := new(event.Event)
		if err := json.Unmarshal(sc.Bytes(), ev); err != nil {
			return events, fmt.Errorf("recording line %d: %w", line, err)
		}
		if ev.Kind == 0 {
			return events, fmt.Errorf("recording line %d: no event kind: want exec, fork or exit", line)
		}
		events++
		handle(ev)
	}
	if err := sc.Err(); err != nil {
		return events, fmt.Errorf("read recording: %w", err)
	}
	return events, nil
}
