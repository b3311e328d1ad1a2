// Package sensor loads vigil's eBPF programs, attaches them to the
// scheduler's exec, fork and exit tracepoints, and reads their ring buffer
// into typed events.
package sensor

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync/atomic"
	"time"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/link"
	"github.com/cilium/ebpf/ringbuf"
	"github.com/cilium/ebpf/rlimit"
	"golang.org/x/sys/unix"

	"github.com/vigil-otel/vigil/bpf"
	"github.com/vigil-otel/vigil/event"
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
	MaxEnvMax      = 32768 // the size of the kernel's environment buffer
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
	// kernel wakes it when this much is pending (default 1 MiB) or when
	// this long has passed since the last wake-up (default 250ms). Each
	// wake-up costs the reader far more than a record does (bench/README.md).
	WakeupBytes    int
	WakeupInterval time.Duration
	// PollInterval is how long the reader waits, after a batch, for
	// records that came without a wake-up (default 100ms); when nothing
	// comes, it waits a second before looking again.
	PollInterval time.Duration
	// Follow, when not zero, limits the sensor to this process and its
	// descendants from now on, filtered in the kernel.
	Follow uint32
	// Env lists the environment variables read at each exec (default
	// DefaultEnv()); no others leave the kernel.
	Env []string
	// EnvMax bounds the bytes of each new program's environment scanned
	// for them (default DefaultEnvMax, at most MaxEnvMax).
	EnvMax int
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
		c.WakeupInterval = 250 * time.Millisecond
	}
	if c.PollInterval == 0 {
		c.PollInterval = 100 * time.Millisecond
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
	cfg     Config
	objs    bpf.SensorObjects
	links   []link.Link
	reader  *ringbuf.Reader
	decoder decoder

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
	if err := checkMachine(os.Geteuid(), btfPath); err != nil {
		return nil, err
	}
	if err := rlimit.RemoveMemlock(); err != nil {
		return nil, fmt.Errorf("remove memlock limit: %w", err)
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
	} {
		if err := spec.Variables[name].Set(value); err != nil {
			return nil, fmt.Errorf("set %s: %w", name, err)
		}
	}

	s := &Sensor{cfg: cfg, decoder: decoder{maxArgs: cfg.MaxArgs, env: env.names}}
	if err := spec.LoadAndAssign(&s.objs, nil); err != nil {
		return nil, explainLoadError(err)
	}
	for _, h := range env.hashes {
		if err := s.objs.EnvNames.Put(h, uint8(1)); err != nil {
			s.Close()
			return nil, fmt.Errorf("load environment allow-list: %w", err)
		}
	}
	if cfg.Follow != 0 {
		// Seeded before anything is attached, so that not even the first
		// fork of the followed process can slip past the filter.
		if err := s.objs.TrackedTgids.Put(cfg.Follow, uint8(1)); err != nil {
			s.Close()
			return nil, fmt.Errorf("seed followed process %d: %w", cfg.Follow, err)
		}
	}
	for _, prog := range []*ebpf.Program{s.objs.HandleFork, s.objs.HandleExit, s.objs.HandleExec} {
		l, err := link.AttachTracing(link.TracingOptions{Program: prog})
		if err != nil {
			s.Close()
			return nil, fmt.Errorf("attach %s: %w", prog, err)
		}
		s.links = append(s.links, l)
	}
	s.reader, err = ringbuf.NewReader(s.objs.Events)
	if err != nil {
		s.Close()
		return nil, fmt.Errorf("create ring buffer reader: %w", err)
	}
	s.decoder.bootOffset, err = bootOffset()
	if err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// Run reads events and hands each to handle, in the order the kernel wrote
// them, until ctx is done; it then delivers every record already in the ring
// and returns. Each event is new: handle may keep it.
func (s *Sensor) Run(ctx context.Context, handle func(ev *event.Event)) error {
	stop := context.AfterFunc(ctx, func() { _ = s.reader.Flush() })
	defer stop()

	var (
		rec ringbuf.Record
		// Records written without a wake-up are picked up by polling: soon
		// after a batch, when more are likely, rarely when all is quiet.
		idle = false
	)
	s.reader.SetDeadline(time.Now().Add(s.cfg.PollInterval))
	for {
		err := s.reader.ReadInto(&rec)
		switch {
		case err == nil:
			if idle {
				idle = false
				s.reader.SetDeadline(time.Now().Add(s.cfg.PollInterval))
			}
		case errors.Is(err, os.ErrDeadlineExceeded):
			next := s.cfg.PollInterval
			if idle {
				next = idlePoll
			}
			idle = true
			s.reader.SetDeadline(time.Now().Add(next))
			continue
		case errors.Is(err, ringbuf.ErrFlushed):
			if ctx.Err() != nil {
				return nil
			}
			continue
		case errors.Is(err, ringbuf.ErrClosed):
			return nil
		default:
			return fmt.Errorf("read ring buffer: %w", err)
		}
		ev := new(event.Event)
		if err := s.decoder.decode(rec.RawSample, ev); err != nil {
			s.decodeErrors.Add(1)
			continue
		}
		s.events.Add(1)
		handle(ev)
	}
}

// Stats returns the counts so far. It is safe to call while Run runs.
func (s *Sensor) Stats() (Stats, error) {
	st := Stats{Events: s.events.Load(), DecodeErrors: s.decodeErrors.Load()}
	for reason, n := range map[bpf.SensorDropReason]*uint64{
		bpf.SensorDropReasonDROP_RINGBUF_FULL: &st.RingBufferDrops,
		bpf.SensorDropReasonDROP_TRACK_FULL:   &st.TrackDrops,
		bpf.SensorDropReasonDROP_SCRATCH_BUSY: &st.ScratchBusyDrops,
	} {
		var perCPU []uint64
		if err := s.objs.DropCounters.Lookup(uint32(reason), &perCPU); err != nil {
			return st, fmt.Errorf("read drop counter %d: %w", reason, err)
		}
		for _, v := range perCPU {
			*n += v
		}
	}
	return st, nil
}

// Close detaches the programs and frees their maps. Run returns once Close
// is called.
func (s *Sensor) Close() error {
	var errs []error
	if s.reader != nil {
		errs = append(errs, s.reader.Close())
	}
	for _, l := range s.links {
		errs = append(errs, l.Close())
	}
	errs = append(errs, s.objs.Close())
	return errors.Join(errs...)
}

// checkMachine tells, in words a user can act on, why this machine cannot
// load the sensor.
func checkMachine(euid int, btf string) error {
	if euid != 0 {
		return errors.New("must run as root: loading eBPF programs needs CAP_BPF and CAP_PERFMON")
	}
	if _, err := os.Stat(btf); err != nil {
		return fmt.Errorf("kernel BTF not found at %s: vigil needs a kernel built with CONFIG_DEBUG_INFO_BTF=y", btf)
	}
	return nil
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

// bootOffset returns Unix time minus CLOCK_BOOTTIME, in nanoseconds, which
// turns the kernel's event times into wall-clock times.
func bootOffset() (int64, error) {
	var boot unix.Timespec
	if err := unix.ClockGettime(unix.CLOCK_BOOTTIME, &boot); err != nil {
		return 0, fmt.Errorf("read CLOCK_BOOTTIME: %w", err)
	}
	return time.Now().UnixNano() - boot.Nano(), nil
}

func boolByte(b bool) uint8 {
	if b {
		return 1
	}
	return 0
}
