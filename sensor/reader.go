package sensor

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"golang.org/x/sys/unix"

	"github.com/vigil-otel/vigil/event"
)

// Reading: Run waits in Go's poller for the kernel's wake-up or its next
// look, then drains the ring, decoding one record at a time under the
// ring's lock.

// idlePoll is how often the reader looks for records when the machine is
// quiet; the kernel wakes it for the first record after a pause anyway.
const idlePoll = time.Second

// Run reads events and hands each to handle, in the order the kernel wrote
// them, until ctx is done; it then delivers every record already in the ring
// and returns nil. Close interrupts it with ErrClosed. An exec event is
// new: handle may keep it. A fork or exit event is only valid during the
// call: its memory is reused for the next one, which spares the collector
// two thirds of the garbage.
//
// The reader never blocks in a system call. It waits in Go's own network
// poller, for the kernel's wake-up or its next look, and then drains the
// ring. A goroutine parked in a blocking epoll_wait instead costs far more
// than the records: the runtime takes its P away each time and its monitor
// thread spins for a millisecond after each hand-off (bench/README.md).
func (s *Sensor) Run(ctx context.Context, handle func(ev *event.Event)) error {
	if s.closed.Load() {
		return ErrClosed
	}
	raw, err := s.wake.SyscallConn()
	if err != nil {
		return fmt.Errorf("ring buffer wake-ups: %w", err)
	}
	// Wakes the wait below; the check in ready covers a cancellation that
	// comes before the wait's own deadline is set.
	stop := context.AfterFunc(ctx, func() { _ = s.wake.SetReadDeadline(time.Now()) })
	defer stop()
	ready := func(uintptr) bool { return ctx.Err() != nil || s.pending() }

	// Records written without a wake-up (the end of a burst) are picked up
	// by looking. The look is due just after the kernel's next wake-up
	// would be, so that while records flow the kernel's wake-ups alone
	// drive the reader; when nothing came, looks are rare.
	tail := s.cfg.WakeupInterval + s.cfg.WakeupInterval/8
	for {
		n, err := s.drain(handle)
		if err != nil {
			return err
		}
		if ctx.Err() != nil {
			return nil
		}
		next := tail
		if n == 0 {
			next = idlePoll
		}
		err = s.wake.SetReadDeadline(time.Now().Add(next))
		if err == nil {
			err = raw.Read(ready)
		}
		switch {
		case err == nil, errors.Is(err, os.ErrDeadlineExceeded):
		case errors.Is(err, os.ErrClosed):
			return ErrClosed
		default:
			return fmt.Errorf("wait for ring buffer: %w", err)
		}
	}
}

// Pending returns how many bytes the kernel has queued that Run has not
// read yet, 0 once the sensor is closed. It is safe to call while Run
// runs, and waits for no more than one record's decoding.
func (s *Sensor) Pending() uint64 {
	s.ringMu.Lock()
	defer s.ringMu.Unlock()
	if s.ring == nil {
		return 0
	}
	return s.ring.pending()
}

// pending says the ring holds records to read, or is closed.
func (s *Sensor) pending() bool {
	s.ringMu.Lock()
	defer s.ringMu.Unlock()
	return s.ring == nil || s.ring.pending() > 0
}

// drain hands on every event in the ring, and returns how many.
func (s *Sensor) drain(handle func(ev *event.Event)) (int, error) {
	for n := 0; ; n++ {
		ev, err := s.next()
		if ev == nil || err != nil {
			return n, err
		}
		handle(ev)
	}
}

// next decodes the next record and returns its event, nil when the ring
// holds none. The ring's lock is held for the record alone, not for its
// handling, so that Close and Pending never wait for a handler.
func (s *Sensor) next() (*event.Event, error) {
	s.ringMu.Lock()
	defer s.ringMu.Unlock()
	if s.ring == nil {
		return nil, ErrClosed
	}
	for {
		ev := &s.transient
		var decodeErr error
		ok, err := s.ring.read(func(sample []byte) { decodeErr = s.decoder.decode(sample, ev) })
		if err != nil {
			return nil, fmt.Errorf("read ring buffer: %w", err)
		}
		if !ok {
			return nil, nil
		}
		if decodeErr != nil {
			s.decodeFailed(decodeErr)
			continue
		}
		if ev.Kind == event.KindExec {
			kept := *ev
			ev = &kept
		}
		s.events.Add(1)
		return ev, nil
	}
}

// decodeFailed counts a record that could not be decoded, and logs the
// first: its text says what went wrong, and the later ones are most likely
// the same.
func (s *Sensor) decodeFailed(err error) {
	if s.decodeErrors.Add(1) == 1 {
		s.log.Warn("a ring buffer record could not be decoded; it and any later ones are counted as lost (undecodable), and only this first one is logged", "error", err)
	}
}

// pollable registers a copy of the ring buffer's descriptor with Go's
// poller. The kernel makes a ring buffer readable when a record asks to
// wake the reader.
func pollable(fd int) (*os.File, error) {
	dup, err := unix.FcntlInt(uintptr(fd), unix.F_DUPFD_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("duplicate ring buffer descriptor: %w", err)
	}
	// os.NewFile registers a descriptor with the poller only when it is
	// already non-blocking.
	if err := unix.SetNonblock(dup, true); err != nil {
		unix.Close(dup)
		return nil, fmt.Errorf("ring buffer descriptor: %w", err)
	}
	f := os.NewFile(uintptr(dup), "ringbuf")
	if err := f.SetReadDeadline(time.Time{}); err != nil {
		f.Close()
		return nil, fmt.Errorf("ring buffer cannot be polled by the Go runtime: %w", err)
	}
	return f, nil
}
