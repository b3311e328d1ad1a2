package sensor

import (
	"bytes"
	"errors"
	"fmt"
	"time"
	"unsafe"

	"github.com/vigil-otel/vigil/bpf"
	"github.com/vigil-otel/vigil/event"
)

// errShortRecord reports a ring-buffer record smaller than its kind's layout.
var errShortRecord = errors.New("short record")

// decoder turns ring-buffer records into events.
type decoder struct {
	// bootOffset converts the kernel's CLOCK_BOOTTIME nanoseconds to Unix time.
	bootOffset int64
	// maxArgs bounds how many arguments one exec keeps.
	maxArgs int
}

// decode fills ev from one raw record. The record's layout is the C struct
// of its kind, so it is read in place; the caller owns ev, decode owns
// nothing of raw afterwards.
func (d *decoder) decode(raw []byte, ev *event.Event) error {
	if len(raw) < int(unsafe.Sizeof(bpf.SensorEventHeader{})) {
		return fmt.Errorf("%w: %d bytes", errShortRecord, len(raw))
	}
	hdr := (*bpf.SensorEventHeader)(unsafe.Pointer(&raw[0]))
	*ev = event.Event{
		Time: time.Unix(0, d.bootOffset+int64(hdr.TimeNs)),
		PID:  hdr.Tgid,
		PPID: hdr.Ptgid,
	}
	switch bpf.SensorEventKind(hdr.Kind) {
	case bpf.SensorEventKindEVENT_EXEC:
		return d.decodeExec(raw, ev)
	case bpf.SensorEventKindEVENT_FORK:
		ev.Kind = event.KindFork
	case bpf.SensorEventKindEVENT_EXIT:
		rec, err := view[bpf.SensorExitEvent](raw)
		if err != nil {
			return err
		}
		ev.Kind = event.KindExit
		ev.ExitStatus = rec.ExitCode
	default:
		return fmt.Errorf("unknown record kind %d", hdr.Kind)
	}
	return nil
}

func (d *decoder) decodeExec(raw []byte, ev *event.Event) error {
	rec, err := view[bpf.SensorExecEvent](raw)
	if err != nil {
		return err
	}
	fixed := int(unsafe.Sizeof(*rec))
	argsEnd := fixed + int(rec.ArgsSize)
	if argsEnd > len(raw) {
		return fmt.Errorf("%w: exec argv of %d bytes in a %d-byte record", errShortRecord, rec.ArgsSize, len(raw))
	}
	ev.Kind = event.KindExec
	ev.TID = rec.Pid
	ev.UID = rec.Uid
	ev.GID = rec.Gid
	ev.Comm = cString(rec.Comm[:])
	ev.Filename = cString(rec.Filename[:])
	ev.Argc = rec.Argc
	var truncated bool
	ev.Args, truncated = splitArgs(raw[fixed:argsEnd], d.maxArgs)
	ev.ArgsTruncated = truncated || rec.Flags&uint32(bpf.SensorExecFlagEXEC_ARGS_TRUNCATED) != 0
	return nil
}

// view reads a record's fixed part in place, after checking it is all there.
func view[T any](raw []byte) (*T, error) {
	var zero T
	if len(raw) < int(unsafe.Sizeof(zero)) {
		return nil, fmt.Errorf("%w: %d bytes for a %d-byte %T", errShortRecord, len(raw), unsafe.Sizeof(zero), zero)
	}
	return (*T)(unsafe.Pointer(&raw[0])), nil
}

// splitArgs splits the kernel's NUL-separated argv block, keeping at most
// max arguments. It reports whether arguments were left out.
func splitArgs(block []byte, max int) ([]string, bool) {
	block = bytes.TrimSuffix(block, []byte{0})
	if len(block) == 0 {
		return nil, false
	}
	args := make([]string, 0, min(bytes.Count(block, []byte{0})+1, max))
	for {
		if len(args) == max {
			return args, true
		}
		arg, rest, found := bytes.Cut(block, []byte{0})
		args = append(args, string(arg))
		if !found {
			return args, false
		}
		block = rest
	}
}

// cString returns the NUL-terminated string at the start of b.
func cString[T ~int8 | ~uint8](b []T) string {
	buf := unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(b))), len(b))
	if i := bytes.IndexByte(buf, 0); i >= 0 {
		buf = buf[:i]
	}
	return string(buf)
}
