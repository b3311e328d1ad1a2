// Package sensor loads vigil's eBPF programs, attaches them to the
// scheduler's exec, fork and exit tracepoints, and reads their ring buffer
// into typed events.
package sensor

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/link"
	"github.com/cilium/ebpf/rlimit"

	"github.com/vigil-otel/vigil/bpf"
	"github.com/vigil-otel/vigil/event"
	"github.com/vigil-otel/vigil/internal/boottime"
)

// btfPath is where the kernel publishes its own type information, which
// CO-RE programs need to be relocated at load.
const btfPath = "/sys/kernel/btf/vmlinux"

// ErrClosed is returned by Run and Stats once Close has been called, and by
// Run when Close interrupts it.
var ErrClosed = errors.New("sensor closed")

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
