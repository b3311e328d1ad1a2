package sensor

import (
	"bytes"
	"encoding/binary"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/vigil-otel/vigil/bpf"
	"github.com/vigil-otel/vigil/event"
)

// sections are an exec record's variable parts, as the kernel lays them out.
type sections struct {
	filename, interp, exe, cwd, cgroup, env, args string
}

// execRecord lays out an exec record the way handle_exec writes it.
func execRecord(t testing.TB, rec bpf.SensorExecEvent, s sections) []byte {
	t.Helper()
	rec.Hdr.Kind = uint8(bpf.SensorEventKindEVENT_EXEC)
	rec.FilenameSize = uint16(len(s.filename))
	rec.InterpSize = uint16(len(s.interp))
	rec.ExeSize = uint16(len(s.exe))
	rec.CwdSize = uint16(len(s.cwd))
	rec.CgroupSize = uint16(len(s.cgroup))
	rec.EnvSize = uint16(len(s.env))
	rec.ArgsSize = uint32(len(s.args))
	var buf bytes.Buffer
	require.NoError(t, binary.Write(&buf, binary.NativeEndian, rec))
	for _, part := range []string{s.filename, s.interp, s.exe, s.cwd, s.cgroup, s.env, s.args} {
		buf.WriteString(part)
	}
	return buf.Bytes()
}

func fixed(t testing.TB, v any) []byte {
	t.Helper()
	var buf bytes.Buffer
	require.NoError(t, binary.Write(&buf, binary.NativeEndian, v))
	return buf.Bytes()
}

func newTestDecoder(maxArgs int) decoder {
	f, _ := newEnvFilter([]string{"TRACEPARENT", "CI"})
	return decoder{maxArgs: maxArgs, env: f.names} // the zero clock: booted at the Unix epoch
}

func TestDecodeExec(t *testing.T) {
	d := newTestDecoder(64)
	rec := bpf.SensorExecEvent{
		Hdr: bpf.SensorEventHeader{Tgid: 42, Ptgid: 7, TimeNs: 5e9},
		Pid: 43, Vpid: 1, Uid: 1000, Gid: 100, Euid: 0, Egid: 100, Loginuid: 1000,
		Flags:    uint32(bpf.SensorExecFlagEXEC_SETID | bpf.SensorExecFlagEXEC_INTERP | bpf.SensorExecFlagEXEC_FILE_OVERLAY | bpf.SensorExecFlagEXEC_FILE_OVERLAY_UPPER),
		Pidns:    4026531836,
		Mntns:    4026531841,
		FileMode: 0o104755, FileUid: 1000, FileGid: 100, FileNlink: 1, FileDev: 8<<20 | 1, FileIno: 1234,
		CapEffective: 0x1ff, CgroupId: 99, Argc: 4,
	}
	copy(rec.Comm[:], []int8{'b', 'u', 'i', 'l', 'd'})
	copy(rec.Tty[:], []int8{'p', 't', 's', '/', '3'})
	id := "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	raw := execRecord(t, rec, sections{
		filename: "./build.sh\x00",
		interp:   "/bin/sh\x00",
		exe:      "dash\x00bin\x00usr\x00",
		cwd:      "src\x00home\x00",
		cgroup:   id + "\x00docker\x00",
		env:      "TRACEPARENT=00-abc-def-01\x00CI=true\x00CI_JOB_TOKEN=secret\x00",
		args:     "build.sh\x00-q\x00\x00a\x1bb\x00",
	})
	var ev event.Event
	require.NoError(t, d.decode(raw, &ev))
	require.True(t, time.Unix(5, 0).Equal(ev.Time), "5s after boot, got %v", ev.Time)
	ev.Time = time.Time{}
	require.Equal(t, event.Event{
		Kind: event.KindExec,
		PID:  42, PPID: 7, TID: 43, VPID: 1,
		UID: 1000, GID: 100, EUID: 0, EGID: 100, LoginUID: 1000, CapEffective: 0x1ff, SetID: true,
		Comm: "build", Filename: "./build.sh", ExePath: "/usr/bin/dash", Interpreter: "/bin/sh", Script: "/home/src/build.sh",
		File: event.File{
			Inode: 1234, Dev: 8<<20 | 1, Nlink: 1, Mode: 0o104755, UID: 1000, GID: 100,
			Overlay: true, OverlayUpper: true, UserWritable: true,
		},
		Args: []string{"build.sh", "-q", "", "a\x1bb"}, Argc: 4,
		Env: map[string]string{"TRACEPARENT": "00-abc-def-01", "CI": "true"},
		Cwd: "/home/src", TTY: "pts/3",
		CgroupID: 99, CgroupPath: "/docker/" + id, ContainerID: id,
		PIDNS: 4026531836, MntNS: 4026531841,
	}, ev)
}

func TestDecodeBoundsArguments(t *testing.T) {
	d := newTestDecoder(2)
	var ev event.Event
	require.NoError(t, d.decode(execRecord(t, bpf.SensorExecEvent{Argc: 3}, sections{args: "a\x00b\x00c\x00"}), &ev))
	require.Equal(t, []string{"a", "b"}, ev.Args)
	require.True(t, ev.ArgsTruncated)

	// Cut by the kernel's byte bound: the last argument is partial.
	rec := bpf.SensorExecEvent{Argc: 9, Flags: uint32(bpf.SensorExecFlagEXEC_ARGS_TRUNCATED)}
	require.NoError(t, d.decode(execRecord(t, rec, sections{args: "a\x00bb"}), &ev))
	require.Equal(t, []string{"a", "bb"}, ev.Args)
	require.True(t, ev.ArgsTruncated)
	require.Equal(t, uint32(9), ev.Argc)
	require.Equal(t, "/", ev.ExePath, "an empty path is the root")

	// argv [""] is one empty argument, not none (argc 0).
	require.NoError(t, d.decode(execRecord(t, bpf.SensorExecEvent{Argc: 1}, sections{args: "\x00"}), &ev))
	require.Equal(t, []string{""}, ev.Args)
	require.NoError(t, d.decode(execRecord(t, bpf.SensorExecEvent{}, sections{}), &ev))
	require.Nil(t, ev.Args)
}

func TestDecodeFlagsAnUnreadEnvironment(t *testing.T) {
	d := newTestDecoder(64)
	var ev event.Event
	require.NoError(t, d.decode(execRecord(t, bpf.SensorExecEvent{}, sections{}), &ev))
	require.False(t, ev.EnvTruncated)
	rec := bpf.SensorExecEvent{Flags: uint32(bpf.SensorExecFlagEXEC_ENV_UNREAD)}
	require.NoError(t, d.decode(execRecord(t, rec, sections{}), &ev))
	require.True(t, ev.EnvTruncated, "variables may have been there")
}

func TestDecodeRejectsShortRecords(t *testing.T) {
	d := newTestDecoder(64)
	var ev event.Event
	require.ErrorIs(t, d.decode([]byte{1, 2, 3}, &ev), errShortRecord)

	full := execRecord(t, bpf.SensorExecEvent{Argc: 1}, sections{cwd: "tmp\x00", args: "abc\x00"})
	require.ErrorIs(t, d.decode(full[:len(full)-2], &ev), errShortRecord, "sections longer than the record")

	exit := fixed(t, bpf.SensorExitEvent{Hdr: bpf.SensorEventHeader{Kind: uint8(bpf.SensorEventKindEVENT_EXIT)}, ExitCode: 3 << 8})
	require.ErrorIs(t, d.decode(exit[:len(exit)-4], &ev), errShortRecord)
	require.NoError(t, d.decode(exit, &ev))
	require.Equal(t, 3, ev.ExitCode())

	require.ErrorContains(t, d.decode(fixed(t, bpf.SensorEventHeader{Kind: 99}), &ev), "unknown record kind 99")
}

func TestLoaderTarget(t *testing.T) {
	for _, tc := range []struct {
		exe    string
		args   []string
		loader bool
		target string
	}{
		{"/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2", []string{"ld", "/tmp/prog", "-x"}, true, "/tmp/prog"},
		{"/lib/ld-musl-x86_64.so.1", []string{"ld", "--library-path", "/tmp/lib", "--inhibit-cache", "./p"}, true, "./p"},
		{"/lib64/ld-linux-x86-64.so.2", []string{"ld", "--list"}, true, ""},
		{"/usr/bin/ld", []string{"ld", "a.o"}, false, ""},
		{"/usr/bin/ldd", []string{"ldd", "x"}, false, ""},
	} {
		loader, target := loaderTarget(tc.exe, tc.args)
		require.Equal(t, tc.loader, loader, tc.exe)
		require.Equal(t, tc.target, target, tc.exe)
	}
}

func TestContainerID(t *testing.T) {
	id := "4f2a1c0e9b8d7c6a5f4e3d2c1b0a99887766554433221100ffeeddccbbaa9988"
	for path, want := range map[string]string{
		"/docker/" + id:                         id,
		"/system.slice/docker-" + id + ".scope": id,
		"/kubepods/besteffort/pod0a1b2c3d-1111-2222-3333-444455556666/" + id:                                        id,
		"/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod0a1b.slice/cri-containerd-" + id + ".scope": id,
		"/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod0a1b.slice/crio-" + id + ".scope":         id,
		"/machine.slice/libpod-" + id + ".scope/container":                                                          id,
		"/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod0a1b.slice/crio-conmon-" + id + ".scope":  "",
		"/user.slice/user-1000.slice/session-3.scope":                                                               "",
		"/process_api/194fdbfffe3104cc41348acc7a0cf699":                                                             "",
		"/": "",
	} {
		require.Equal(t, want, ContainerID(path), path)
	}
}

func TestPodUID(t *testing.T) {
	id := "4f2a1c0e9b8d7c6a5f4e3d2c1b0a99887766554433221100ffeeddccbbaa9988"
	uid := "0a1b2c3d-1111-2222-3333-444455556666"
	under := strings.ReplaceAll(uid, "-", "_")
	for path, want := range map[string]string{
		"/kubepods/besteffort/pod" + uid + "/" + id: uid,
		"/kubepods/pod" + uid + "/" + id:            uid,
		"/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" + under + ".slice/cri-containerd-" + id + ".scope": uid,
		"/kubepods.slice/kubepods-pod" + under + ".slice/crio-" + id + ".scope":                                              uid,
		"/kubepods/besteffort/podnot-a-uid/" + id:                                                                            "",
		"/docker/" + id:                        "",
		"/system.slice/pod" + uid + ".service": "",
		"/":                                    "",
	} {
		require.Equal(t, want, PodUID(path), path)
	}
}

func TestEnvFilterMatchesTheKernelsLayout(t *testing.T) {
	f, err := newEnvFilter(DefaultEnv())
	require.NoError(t, err)
	require.Len(t, f.keys, len(DefaultEnv()))
	require.Equal(t, "CI=", strings.TrimRight(string(f.keys[slices.Index(DefaultEnv(), "CI")][:]), "\x00"))
	require.Equal(t, uint64('C')|uint64('I')<<8|uint64('=')<<16, envPrefix("CI"))
	require.Equal(t, envPrefix("TRACEPARENT"), envPrefix("TRACEPAR"), "8 bytes at most")
	for _, name := range DefaultEnv() {
		p, slot, found := envPrefix(name), envPrefixSlot(envPrefix(name)), false
		for probe := range envPrefixProbes {
			found = found || f.prefixes[(slot+probe)%envPrefixSlots] == p
		}
		require.True(t, found, name)
	}
	_, err = newEnvFilter([]string{"A=B"})
	require.ErrorContains(t, err, `"A=B"`)
	_, err = newEnvFilter([]string{strings.Repeat("N", envKeySize)})
	require.ErrorContains(t, err, "want 1 to 63 bytes")
}

// BenchmarkDecodeExec decodes a typical exec record: a compiler started by
// make in a CI job, with a few allow-listed variables.
func BenchmarkDecodeExec(b *testing.B) {
	f, err := newEnvFilter(DefaultEnv())
	require.NoError(b, err)
	d := decoder{maxArgs: DefaultMaxArgs, env: f.names}
	raw := execRecord(b, bpf.SensorExecEvent{Argc: 9}, sections{
		filename: "/usr/bin/cc\x00",
		exe:      "x86_64-linux-gnu-gcc-12\x00bin\x00usr\x00",
		cwd:      "build\x00repo\x00work\x00runner\x00home\x00",
		cgroup:   "runner.service\x00system.slice\x00",
		env:      "CI=true\x00GITHUB_RUN_ID=6789012345\x00GITHUB_JOB=build\x00TRACEPARENT=00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01\x00",
		args:     "cc\x00-O2\x00-Wall\x00-c\x00-o\x00obj/main.o\x00src/main.c\x00-Iinclude\x00-DNDEBUG\x00",
	})
	b.ReportAllocs()
	for b.Loop() {
		var ev event.Event
		if err := d.decode(raw, &ev); err != nil {
			b.Fatal(err)
		}
	}
}

func TestPathComponents(t *testing.T) {
	for block, path := range map[string]string{
		"":                       "/",
		"dash\x00bin\x00usr\x00": "/usr/bin/dash",
		"memfd:x\x00":            "/memfd:x",
	} {
		require.Equal(t, path, joinComponents([]byte(block)))
		require.True(t, componentsEqual([]byte(block), path), path)
	}
	require.False(t, componentsEqual([]byte("b\x00a\x00"), "/a/c"))
	require.False(t, componentsEqual([]byte("b\x00a\x00"), "/a/b/c"))
	require.False(t, componentsEqual([]byte("b\x00a\x00"), "/a"))

	// The cache follows a cgroup id that comes back with another path.
	d := newTestDecoder(64)
	require.Equal(t, "/x/y", d.cgroup(7, []byte("y\x00x\x00")).path)
	require.Equal(t, "/x/z", d.cgroup(7, []byte("z\x00x\x00")).path)
}
