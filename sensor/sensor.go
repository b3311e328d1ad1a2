// Package sensor loads vigil's eBPF programs, attaches them to the
// scheduler's exec, fork and exit tracepoints, and reads their ring buffer
// into typed events.
package sensor

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/link"
	"github.com/cilium/ebpf/rlimit"
	"golang.org/x/sys/unix"

	"github.com/vigil-otel/vigil/bpf"
	"github.com/vigil-otel/vigil/event"
	"github.com/vigil-otel/vigil/internal/boottime"
)

// btfPath is where the kernel publishes its own type information, which
// CO-RE programs need to be relocated at load.
const btfPath = "/sys/kernel/btf/vmlinux"

// Bounds of what one exec event carries.
const (
	DefaultArgsMax = 4096
	MaxArgsMax     = 32768 // the size of the kernel's argv buffer
	DefaultMaxArgs = 64
	DefaultEnvMax  = 16384
	// DefaultWakeupInterval bounds how long a record waits in the ring
	// before the reader is woken for it. Measured here: 1 s costs the
	// reader half the CPU per exec of 250 ms (bench/README.md); detections
	// reach their exporter within about two of it.
	DefaultWakeupInterval = time.Second
	MaxEnvMax             = 32768 // the size of the kernel's environment buffer
)

// Config says what the sensor captures and how it delivers it.
type Config struct {
	// ArgsMax bounds the bytes of argv kept per exec (default
	// DefaultArgsMax, at most MaxArgsMax).
	ArgsMax int
	// MaxArgs bounds the number of arguments kept per exec (default
	// DefaultMaxArgs).
	MaxArgs int
	// RingBufferSize is the ring buffer's size in bytes, a power of two and
	// a multiple of the page size (default 8 MiB).
	RingBufferSize int
	// WakeupBytes and WakeupInterval batch the reader's wake-ups: the
	// kernel wakes it when this much is pending (default 1 MiB, or a
	// quarter of a smaller ring) or when this long has passed since the
	// last wake-up (default DefaultWakeupInterval). Each wake-up costs the
	// reader far more than a record does (bench/README.md).
	// The records that come after the last wake-up of a burst are read a
	// little more than WakeupInterval later, so no record waits much
	// longer than twice that.
	WakeupBytes    int
	WakeupInterval time.Duration
	// Follow, when not zero, limits the sensor to this process and its
	// descendants from now on, filtered in the kernel.
	Follow uint32
	// Env lists the environment variables read at each exec (default
	// DefaultEnv()); no others leave the kernel.
	Env []string
	// EnvMax bounds the bytes of each new program's environment scanned
	// for them (default DefaultEnvMax, at most MaxEnvMax).
	EnvMax int
	// Features, when set, are used instead of those ProbeFeatures finds:
	// the tests turn features off to run the fallbacks on a kernel that
	// has them all.
	Features *Features
}

func (c *Config) setDefaults() error {
	if c.ArgsMax == 0 {
		c.ArgsMax = DefaultArgsMax
	}
	if c.ArgsMax < 0 || c.ArgsMax > MaxArgsMax {
		return fmt.Errorf("argv bound %d out of range 1..%d", c.ArgsMax, MaxArgsMax)
	}
	if c.MaxArgs == 0 {
		c.MaxArgs = DefaultMaxArgs
	}
	if c.MaxArgs < 0 {
		return fmt.Errorf("argument count bound %d is negative", c.MaxArgs)
	}
	if c.RingBufferSize == 0 {
		c.RingBufferSize = 8 << 20
	}
	page := os.Getpagesize()
	if c.RingBufferSize < page || c.RingBufferSize&(c.RingBufferSize-1) != 0 {
		return fmt.Errorf("ring buffer size %d is not a power of two of at least %d", c.RingBufferSize, page)
	}
	if c.WakeupBytes == 0 {
		c.WakeupBytes = min(1<<20, c.RingBufferSize/4)
	}
	if c.WakeupInterval == 0 {
		c.WakeupInterval = DefaultWakeupInterval
	}
	if c.Env == nil {
		c.Env = DefaultEnv()
	}
	if c.EnvMax == 0 {
		c.EnvMax = DefaultEnvMax
	}
	if c.EnvMax < 0 || c.EnvMax > MaxEnvMax {
		return fmt.Errorf("environment bound %d out of range 1..%d", c.EnvMax, MaxEnvMax)
	}
	return nil
}

// ErrClosed is returned by Run and Stats once Close has been called, and by
// Run when Close interrupts it.
var ErrClosed = errors.New("sensor closed")

// idlePoll is how often the reader looks for records when the machine is
// quiet; the kernel wakes it for the first record after a pause anyway.
const idlePoll = time.Second

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

// Sensor is the loaded and attached set of programs.
type Sensor struct {
	cfg      Config
	features Features
	maps     bpf.SensorMaps
	progs    []*ebpf.Program
	// tail is the bounded exec variant's environment scan, when loaded:
	// tail-called, never attached.
	tail  *ebpf.Program
	links []link.Link
	// ring is unmapped by Close, under ringMu, which Run holds while it
	// reads and decodes one record, never while it hands the event on.
	ringMu sync.Mutex
	ring   *ring
	// closed makes Close do its work once.
	closed atomic.Bool
	// transient holds each fork and exit event while it is handled.
	transient event.Event
	// wake is the ring buffer's descriptor in Go's poller: readable when
	// the kernel wakes the reader.
	wake    *os.File
	decoder decoder
	// log is where the first decode error is told.
	log *slog.Logger

	events       atomic.Uint64
	decodeErrors atomic.Uint64
}

// New checks the machine, loads the programs with cfg applied, and attaches
// them. From its return on, events are buffered in the ring until Run reads
// them. Close releases everything.
func New(cfg Config) (*Sensor, error) {
	if err := cfg.setDefaults(); err != nil {
		return nil, fmt.Errorf("sensor config: %w", err)
	}
	if err := checkMachine(effectiveCaps(), btfPath); err != nil {
		return nil, err
	}
	if err := rlimit.RemoveMemlock(); err != nil {
		// Only kernels before 5.11 count BPF maps against the limit, and
		// only then does raising it matter.
		return nil, fmt.Errorf("this kernel counts BPF maps against the locked-memory limit, and raising it needs CAP_SYS_RESOURCE (or root): %w", err)
	}
	features := cfg.Features
	if features == nil {
		probed, err := ProbeFeatures()
		if err != nil {
			return nil, err
		}
		features = &probed
	}

	spec, err := bpf.LoadSensor()
	if err != nil {
		return nil, fmt.Errorf("read embedded programs: %w", err)
	}
	cpus, err := ebpf.PossibleCPU()
	if err != nil {
		return nil, fmt.Errorf("count CPUs: %w", err)
	}
	spec.Maps[bpf.SensorMapEvents].MaxEntries = uint32(cfg.RingBufferSize)
	spec.Maps[bpf.SensorMapExecHeap].MaxEntries = uint32(cpus)
	env, err := newEnvFilter(cfg.Env)
	if err != nil {
		return nil, err
	}
	for name, value := range map[string]any{
		bpf.SensorVarArgsMax:       uint32(cfg.ArgsMax),
		bpf.SensorVarEnvMax:        uint32(cfg.EnvMax),
		bpf.SensorVarFollowTracked: boolByte(cfg.Follow != 0),
		bpf.SensorVarWakeupBytes:   uint64(cfg.WakeupBytes),
		bpf.SensorVarWakeupNs:      uint64(cfg.WakeupInterval),
		bpf.SensorVarEnvPrefixes:   env.prefixes,
		bpf.SensorVarUseRdonlyCast: boolByte(features.RdonlyCast),
		bpf.SensorVarUseStrnlen:    boolByte(features.Strnlen),
	} {
		if err := spec.Variables[name].Set(value); err != nil {
			return nil, fmt.Errorf("set %s: %w", name, err)
		}
	}

	s := &Sensor{cfg: cfg, features: *features, decoder: decoder{maxArgs: cfg.MaxArgs, env: env.names}, log: slog.Default()}
	if err := s.start(spec, env); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// start loads the programs, fills their maps, attaches them and maps the
// ring buffer; what it has done when it fails, Close undoes.
func (s *Sensor) start(spec *ebpf.CollectionSpec, env envFilter) (err error) {
	if err := s.load(spec); err != nil {
		return err
	}
	for _, key := range env.keys {
		if err := s.maps.EnvNames.Put(key, uint8(1)); err != nil {
			return fmt.Errorf("load environment allow-list: %w", err)
		}
	}
	if s.cfg.Follow != 0 {
		// Seeded before anything is attached, so that not even the first
		// fork of the followed process can slip past the filter.
		if err := s.maps.TrackedTgids.Put(s.cfg.Follow, uint8(1)); err != nil {
			return fmt.Errorf("seed followed process %d: %w", s.cfg.Follow, err)
		}
	}
	for _, prog := range s.progs {
		l, err := link.AttachTracing(link.TracingOptions{Program: prog})
		if err != nil {
			return fmt.Errorf("attach %s: %w", prog, err)
		}
		s.links = append(s.links, l)
	}
	if s.ring, err = newRing(s.maps.Events.FD(), s.cfg.RingBufferSize); err != nil {
		return err
	}
	if s.wake, err = pollable(s.maps.Events.FD()); err != nil {
		return err
	}
	s.decoder.clock, err = boottime.Read()
	return err
}

// load loads the maps and the variant of each program that the features
// select, in the order they are to be attached: fork and exit before exec,
// so that no process execs unseen by the table's bookkeeping. The other
// variants are never loaded: an older kernel refuses even to load a
// program that names a helper it lacks. The bounded exec variant's
// environment scan is a program of its own, tail-called, not attached.
func (s *Sensor) load(spec *ebpf.CollectionSpec) error {
	exec, exit := s.features.programs()
	attached := []string{bpf.SensorProgHandleFork, exit, exec}
	wanted := attached
	if exec == bpf.SensorProgHandleExecBounded {
		wanted = append(slices.Clone(attached), bpf.SensorProgHandleExecEnv)
	}
	for name := range spec.Programs {
		if !slices.Contains(wanted, name) {
			delete(spec.Programs, name)
		}
	}
	coll, err := ebpf.NewCollection(spec)
	if err != nil {
		return explainLoadError(err)
	}
	defer coll.Close()
	if err := coll.Assign(&s.maps); err != nil {
		return fmt.Errorf("take maps: %w", err)
	}
	if s.tail = coll.DetachProgram(bpf.SensorProgHandleExecEnv); s.tail != nil {
		if err := s.maps.ExecTail.Put(uint32(0), s.tail); err != nil {
			return fmt.Errorf("install the environment scan's tail call: %w", err)
		}
	}
	for _, name := range attached {
		s.progs = append(s.progs, coll.DetachProgram(name))
	}
	return nil
}

// Features returns the kernel features the loaded programs use.
func (s *Sensor) Features() Features {
	return s.features
}

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

// Close detaches the programs and frees their maps; it interrupts Run,
// waiting at most for the record Run is decoding, not for its handling.
// Calls after the first do nothing and return nil.
func (s *Sensor) Close() error {
	if !s.closed.CompareAndSwap(false, true) {
		return nil
	}
	var errs []error
	if s.wake != nil {
		errs = append(errs, s.wake.Close())
	}
	s.ringMu.Lock()
	if s.ring != nil {
		errs = append(errs, s.ring.close())
		s.ring = nil
	}
	s.ringMu.Unlock()
	for _, l := range s.links {
		errs = append(errs, l.Close())
	}
	for _, p := range s.progs {
		errs = append(errs, p.Close())
	}
	if s.tail != nil {
		errs = append(errs, s.tail.Close())
	}
	errs = append(errs, s.maps.Close())
	return errors.Join(errs...)
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

// verifierLogLines is how much of the verifier's log a load error shows:
// its last lines say why it gave up.
const verifierLogLines = 20

// explainLoadError adds the end of the verifier's log when the kernel
// rejected a program.
func explainLoadError(err error) error {
	var verr *ebpf.VerifierError
	if errors.As(err, &verr) {
		return fmt.Errorf("the kernel's verifier rejected vigil's programs: %w\nverifier log (last lines):\n%-*v", err, verifierLogLines, verr)
	}
	return fmt.Errorf("load programs: %w", err)
}

func boolByte(b bool) uint8 {
	if b {
		return 1
	}
	return 0
}
