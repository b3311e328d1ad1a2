package sensor

import (
	"fmt"

	"github.com/vigil-otel/vigil/bpf"
)

// Counting what the sensor delivered and what it lost, in Go and in the
// kernel's per-CPU drop counters.

// Stats counts what the sensor delivered and what it lost.
type Stats struct {
	// Events is the number of records decoded and handed on.
	Events uint64
	// RingBufferDrops counts records the kernel could not write because the
	// ring buffer was full.
	RingBufferDrops uint64
	// TrackDrops counts descendants of the followed process that the kernel
	// could not add to its filter, whose events were therefore lost.
	TrackDrops uint64
	// ScratchBusyDrops counts execs lost because another exec on the same
	// CPU held the kernel's scratch buffer.
	ScratchBusyDrops uint64
	// DecodeErrors counts records that could not be decoded.
	DecodeErrors uint64
}

// Lost is the total of events lost at the sensor.
func (s Stats) Lost() uint64 {
	return s.RingBufferDrops + s.TrackDrops + s.ScratchBusyDrops + s.DecodeErrors
}

// Stats returns the counts so far. It is safe to call while Run runs.
// Once the sensor is closed, it returns ErrClosed with the counts kept
// outside the kernel.
func (s *Sensor) Stats() (Stats, error) {
	st := Stats{Events: s.events.Load(), DecodeErrors: s.decodeErrors.Load()}
	if s.closed.Load() {
		return st, ErrClosed
	}
	for reason, n := range map[bpf.SensorDropReason]*uint64{
		bpf.SensorDropReasonDROP_RINGBUF_FULL: &st.RingBufferDrops,
		bpf.SensorDropReasonDROP_TRACK_FULL:   &st.TrackDrops,
		bpf.SensorDropReasonDROP_SCRATCH_BUSY: &st.ScratchBusyDrops,
	} {
		var perCPU []uint64
		if err := s.maps.DropCounters.Lookup(uint32(reason), &perCPU); err != nil {
			return st, fmt.Errorf("read drop counter %d: %w", reason, err)
		}
		for _, v := range perCPU {
			*n += v
		}
	}
	return st, nil
}
