package sensor

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/vigil-otel/vigil/bpf"
	"github.com/vigil-otel/vigil/event"
)

// The ring buffer is the sensor's one input from outside the process: a
// record is what the kernel wrote, and the decoder must hold whatever it
// finds there, since a bug on either side must cost a record, not vigil.

// seedRecords are real records, laid out as handle_exec and the fork and
// exit hooks write them.
func seedRecords(t testing.TB) [][]byte {
	exec := execRecord(t, bpf.SensorExecEvent{
		Hdr: bpf.SensorEventHeader{Tgid: 42, Ptgid: 7, TimeNs: 5e9},
		Pid: 43, Uid: 1000, Argc: 4, CgroupId: 99,
		Flags: uint32(bpf.SensorExecFlagEXEC_INTERP | bpf.SensorExecFlagEXEC_ARGS_TRUNCATED),
	}, sections{
		filename: "./build.sh\x00",
		interp:   "/bin/sh\x00",
		exe:      "dash\x00bin\x00usr\x00",
		cwd:      "src\x00home\x00",
		cgroup:   "runner.service\x00system.slice\x00",
		env:      "TRACEPARENT=00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01\x00CI=true\x00",
		args:     "build.sh\x00-q\x00\x00a\x1bb",
	})
	fork := fixed(t, bpf.SensorForkEvent{Hdr: bpf.SensorEventHeader{Kind: uint8(bpf.SensorEventKindEVENT_FORK), Tgid: 43, Ptgid: 42}})
	exit := fixed(t, bpf.SensorExitEvent{Hdr: bpf.SensorEventHeader{Kind: uint8(bpf.SensorEventKindEVENT_EXIT), Tgid: 43}, ExitCode: 9})
	return [][]byte{exec, exec[:len(exec)-3], fork, exit, exit[:len(exit)-1], {}, fixed(t, bpf.SensorEventHeader{Kind: 99})}
}

// FuzzDecode feeds the decoder any bytes: it must never panic, must
// refuse what does not hold a whole record, and what it decodes must be
// bounded by the record itself.
func FuzzDecode(f *testing.F) {
	for _, raw := range seedRecords(f) {
		f.Add(raw, uint8(64))
	}
	f.Fuzz(func(t *testing.T, raw []byte, maxArgs uint8) {
		d := newTestDecoder(int(maxArgs) + 1)
		var ev event.Event
		err := d.decode(raw, &ev)
		if err != nil {
			if !errors.Is(err, errShortRecord) {
				require.ErrorContains(t, err, "unknown record kind")
			}
			return
		}
		require.Contains(t, []event.Kind{event.KindExec, event.KindFork, event.KindExit}, ev.Kind)
		require.LessOrEqual(t, len(ev.Args), d.maxArgs)
		require.LessOrEqual(t, len(ev.Env), len(d.env))
		// Every string comes from the record: a path gains one '/' per
		// component at most, and the script joins two paths.
		size := len(ev.Comm) + len(ev.TTY) + len(ev.Filename) + len(ev.Interpreter) + len(ev.ExePath) +
			len(ev.Cwd) + len(ev.CgroupPath) + len(ev.Script)
		for _, a := range ev.Args {
			size += len(a)
		}
		for k, v := range ev.Env {
			size += len(k) + len(v)
		}
		require.LessOrEqual(t, size, 3*len(raw)+8)
	})
}

// FuzzDecodeExec lays out an exec record from fuzzed contents as the
// kernel does, and checks that each string decodes to what was written.
func FuzzDecodeExec(f *testing.F) {
	f.Add("./build.sh", "/bin/sh", "/usr/bin/dash", "/home/src", "/system.slice/runner.service",
		"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", "build.sh\x00-q\x00\x00a\x1bb", "build", uint32(bpf.SensorExecFlagEXEC_INTERP), false, uint8(64))
	f.Add("", "", "/", "/", "/", "", "", "", uint32(0), true, uint8(0))
	f.Add("\xff\xfe", "", "/a b/\x1b[2J", "/\u202e", "/kubepods/pod1/x", "x=y", "", "0123456789abcdefXYZ", uint32(0xffffffff), false, uint8(1))
	f.Fuzz(func(t *testing.T, filename, interp, exe, cwd, cgroup, traceparent, args, comm string, flags uint32, noArgs bool, maxArgs uint8) {
		// What the kernel cannot send: NULs inside strings, empty path
		// components, sections longer than their size field.
		noNUL := func(s string, max int) string {
			s = strings.ReplaceAll(s, "\x00", "")
			return s[:min(len(s), max)]
		}
		filename, interp, comm = noNUL(filename, 1023), noNUL(interp, 1023), noNUL(comm, 15)
		traceparent = noNUL(traceparent, 500)
		argv := strings.Split(args[:min(len(args), 32767)], "\x00")
		if noArgs {
			argv = nil // argc 0, as in CVE-2021-4034
		}

		rec := bpf.SensorExecEvent{Flags: flags, Argc: uint32(len(argv))}
		for i := range len(comm) {
			rec.Comm[i] = int8(comm[i])
		}
		exeBlock, exePath := components(exe, 4096)
		cwdBlock, cwdPath := components(cwd, 4096)
		cgBlock, cgPath := components(cgroup, 1024)
		var argBlock strings.Builder
		for _, a := range argv {
			argBlock.WriteString(a + "\x00")
		}
		raw := execRecord(t, rec, sections{
			filename: filename + "\x00",
			interp:   interp + "\x00",
			exe:      exeBlock,
			cwd:      cwdBlock,
			cgroup:   cgBlock,
			env:      "CI_JOB_TOKEN=secret\x00TRACEPARENT=" + traceparent + "\x00",
			args:     argBlock.String(),
		})

		d := newTestDecoder(int(maxArgs) + 1)
		// The cgroup cache must follow a cgroup id that comes back with
		// another path.
		d.cgroup(rec.CgroupId, []byte("other\x00"))
		var ev event.Event
		require.NoError(t, d.decode(raw, &ev))
		require.Equal(t, filename, ev.Filename)
		if flags&uint32(bpf.SensorExecFlagEXEC_INTERP) != 0 {
			require.Equal(t, interp, ev.Interpreter)
		} else {
			require.Empty(t, ev.Interpreter)
		}
		require.Equal(t, exePath, ev.ExePath)
		require.Equal(t, cwdPath, ev.Cwd)
		require.Equal(t, cgPath, ev.CgroupPath)
		require.Equal(t, comm, ev.Comm)
		require.Equal(t, map[string]string{"TRACEPARENT": traceparent}, ev.Env)
		kept := argv[:min(len(argv), d.maxArgs)]
		if len(kept) == 0 {
			kept = nil
		}
		require.Equal(t, kept, ev.Args)
		require.Equal(t, len(argv) > d.maxArgs || flags&uint32(bpf.SensorExecFlagEXEC_ARGS_TRUNCATED) != 0, ev.ArgsTruncated)
	})
}

// components writes path as the kernel sends a resolved path: its
// components, leaf first, each NUL-terminated, within max bytes; it
// returns them and the path they stand for. The kernel's components are
// never empty and hold no NUL.
func components(path string, max int) (string, string) {
	parts := slices.DeleteFunc(strings.FieldsFunc(path, func(r rune) bool { return r == '/' || r == 0 }), func(s string) bool { return s == "" })
	var block strings.Builder
	for i := len(parts) - 1; i >= 0; i-- {
		if block.Len()+len(parts[i])+1 > max {
			parts = parts[i+1:]
			break
		}
		block.WriteString(parts[i] + "\x00")
	}
	return block.String(), "/" + strings.Join(parts, "/")
}
