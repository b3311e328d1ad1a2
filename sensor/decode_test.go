package sensor

import (
	"bytes"
	"encoding/binary"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/vigil-otel/vigil/bpf"
	"github.com/vigil-otel/vigil/event"
)

// record lays out a kernel record the way the C programs write it.
func record(t *testing.T, fixed any, tail []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	require.NoError(t, binary.Write(&buf, binary.NativeEndian, fixed))
	buf.Write(tail)
	return buf.Bytes()
}

func cstr(s string, n int) []int8 {
	out := make([]int8, n)
	for i := 0; i < len(s) && i < n-1; i++ {
		out[i] = int8(s[i])
	}
	return out
}

func execRecord(args []byte, argc uint32, flags bpf.SensorExecFlag) bpf.SensorExecEvent {
	rec := bpf.SensorExecEvent{
		Hdr:      bpf.SensorEventHeader{Kind: uint8(bpf.SensorEventKindEVENT_EXEC), Tgid: 42, Ptgid: 7, TimeNs: 5e9},
		Pid:      43,
		Uid:      1000,
		Gid:      100,
		Argc:     argc,
		ArgsSize: uint32(len(args)),
		Flags:    uint32(flags),
	}
	copy(rec.Comm[:], cstr("zip", 16))
	copy(rec.Filename[:], cstr("/usr/bin/zip", 512))
	return rec
}

func TestDecodeExec(t *testing.T) {
	d := decoder{bootOffset: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).UnixNano(), maxArgs: 64}
	args := []byte("zip\x00-q\x00\x00a\x1bb\x00")
	var ev event.Event
	require.NoError(t, d.decode(record(t, execRecord(args, 4, 0), args), &ev))
	require.True(t, time.Date(2026, 1, 1, 0, 0, 5, 0, time.UTC).Equal(ev.Time), "boot time 5s after the offset, got %v", ev.Time)
	ev.Time = time.Time{}
	require.Equal(t, event.Event{
		Kind: event.KindExec,
		PID:  42, PPID: 7, TID: 43, UID: 1000, GID: 100,
		Comm: "zip", Filename: "/usr/bin/zip",
		Args: []string{"zip", "-q", "", "a\x1bb"}, Argc: 4,
	}, ev)
}

func TestDecodeBoundsArguments(t *testing.T) {
	d := decoder{maxArgs: 2}
	args := []byte("a\x00b\x00c\x00")
	var ev event.Event
	require.NoError(t, d.decode(record(t, execRecord(args, 3, 0), args), &ev))
	require.Equal(t, []string{"a", "b"}, ev.Args)
	require.True(t, ev.ArgsTruncated)

	// Cut by the kernel's byte bound: the last argument is partial.
	args = []byte("a\x00bb")
	require.NoError(t, d.decode(record(t, execRecord(args, 9, bpf.SensorExecFlagEXEC_ARGS_TRUNCATED), args), &ev))
	require.Equal(t, []string{"a", "bb"}, ev.Args)
	require.True(t, ev.ArgsTruncated)
	require.Equal(t, uint32(9), ev.Argc)
}

func TestDecodeRejectsShortRecords(t *testing.T) {
	d := decoder{maxArgs: 64}
	var ev event.Event
	require.ErrorIs(t, d.decode([]byte{1, 2, 3}, &ev), errShortRecord)

	full := record(t, execRecord([]byte("abc\x00"), 1, 0), []byte("abc\x00"))
	require.ErrorIs(t, d.decode(full[:len(full)-2], &ev), errShortRecord, "argv longer than the record")

	exit := record(t, bpf.SensorExitEvent{Hdr: bpf.SensorEventHeader{Kind: uint8(bpf.SensorEventKindEVENT_EXIT)}, ExitCode: 3 << 8}, nil)
	require.ErrorIs(t, d.decode(exit[:len(exit)-4], &ev), errShortRecord)
	require.NoError(t, d.decode(exit, &ev))
	require.Equal(t, 3, ev.ExitCode())

	hdr := record(t, bpf.SensorEventHeader{Kind: 99}, nil)
	require.ErrorContains(t, d.decode(hdr, &ev), "unknown record kind 99")
}
