// This file is one job: decoding a ring-buffer record into an event, with
// the record's layout and the readers of its fields; kept whole because
// every helper here serves decode alone.

package sensor

import (
	"bytes"
	"errors"
	"fmt"
	"path"
	"strings"
	"time"
	"unsafe"

	"github.com/vigil-otel/vigil/bpf"
	"github.com/vigil-otel/vigil/event"
	"github.com/vigil-otel/vigil/internal/boottime"
)

// errShortRecord reports a ring-buffer record smaller than its layout says.
var errShortRecord = errors.New("short record")

// decoder turns ring-buffer records into events.
type decoder struct {
	// clock converts the kernel's CLOCK_BOOTTIME nanoseconds to wall time.
	clock boottime.Clock
	// maxArgs bounds how many arguments one exec keeps.
	maxArgs int
	// env is the allow-list of environment variables; the kernel only
	// sends candidates, this makes the final cut.
	env map[string]bool
	// cgroups caches each cgroup's path and container by cgroup id, since
	// most execs happen in the few cgroups seen before.
	cgroups map[uint64]cgroupInfo
}

type cgroupInfo struct{ path, containerID, podUID string }

// maxCachedCgroups bounds the cgroup cache; it starts over when full.
const maxCachedCgroups = 4096

// decode fills ev from one raw record. The record's layout is the C struct
// of its kind, so it is read in place; the caller owns ev, decode owns
// nothing of raw afterwards.
func (d *decoder) decode(raw []byte, ev *event.Event) error {
	hdr, err := view[bpf.SensorEventHeader](raw)
	if err != nil {
		return err
	}
	*ev = event.Event{
		Time: d.clock.Time(time.Duration(hdr.TimeNs)),
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
	// The sections follow the fixed part, in the order of the C comment.
	sections := sectionReader{rest: raw[unsafe.Sizeof(*rec):]}
	filename := sections.next(int(rec.FilenameSize))
	interp := sections.next(int(rec.InterpSize))
	exe := sections.next(int(rec.ExeSize))
	cwd := sections.next(int(rec.CwdSize))
	cgroup := sections.next(int(rec.CgroupSize))
	env := sections.next(int(rec.EnvSize))
	args := sections.next(int(rec.ArgsSize))
	if sections.err != nil {
		return sections.err
	}

	flag := func(f bpf.SensorExecFlag) bool { return rec.Flags&uint32(f) != 0 }
	ev.Kind = event.KindExec
	ev.TID = rec.Pid
	ev.VPID = rec.Vpid
	ev.UID, ev.GID, ev.EUID, ev.EGID = rec.Uid, rec.Gid, rec.Euid, rec.Egid
	ev.LoginUID = rec.Loginuid
	ev.CapEffective = rec.CapEffective
	ev.SetID = flag(bpf.SensorExecFlagEXEC_SETID)
	ev.SecureExec = flag(bpf.SensorExecFlagEXEC_SECUREEXEC)
	ev.Comm = cString(rec.Comm[:])
	ev.TTY = cString(rec.Tty[:])
	ev.Filename = cString(filename)
	if flag(bpf.SensorExecFlagEXEC_INTERP) {
		ev.Interpreter = cString(interp)
	}
	ev.ExePath = joinComponents(exe)
	ev.Cwd = joinComponents(cwd)
	if ev.Interpreter != "" {
		ev.Script = ev.Filename
		if !path.IsAbs(ev.Script) {
			ev.Script = path.Join(ev.Cwd, ev.Script)
		}
	}
	ev.CgroupID = rec.CgroupId
	cg := d.cgroup(rec.CgroupId, cgroup)
	ev.CgroupPath, ev.ContainerID, ev.PodUID = cg.path, cg.containerID, cg.podUID
	ev.PIDNS, ev.MntNS = rec.Pidns, rec.Mntns
	ev.PathsTruncated = flag(bpf.SensorExecFlagEXEC_FILENAME_TRUNCATED) || flag(bpf.SensorExecFlagEXEC_EXE_TRUNCATED) ||
		flag(bpf.SensorExecFlagEXEC_CWD_TRUNCATED) || flag(bpf.SensorExecFlagEXEC_CGROUP_TRUNCATED)

	memfd := flag(bpf.SensorExecFlagEXEC_FILE_MEMFD)
	ev.File = event.File{
		Inode:               rec.FileIno,
		Dev:                 rec.FileDev,
		Nlink:               rec.FileNlink,
		Mode:                rec.FileMode,
		UID:                 rec.FileUid,
		GID:                 rec.FileGid,
		Deleted:             rec.FileNlink == 0 && !memfd,
		Memfd:               memfd,
		Overlay:             flag(bpf.SensorExecFlagEXEC_FILE_OVERLAY),
		OverlayUpper:        flag(bpf.SensorExecFlagEXEC_FILE_OVERLAY_UPPER),
		OverlayLayerUnknown: flag(bpf.SensorExecFlagEXEC_FILE_OVERLAY_LAYER_UNKNOWN),
		UserWritable:        writableBy(rec.FileMode, rec.FileUid, rec.FileGid, rec.Uid, rec.Gid),
	}

	ev.Env = d.allowedEnv(env)
	// An environment the kernel could not read may have held allow-listed
	// variables: their absence then says nothing, which the flag tells.
	ev.EnvTruncated = flag(bpf.SensorExecFlagEXEC_ENV_TRUNCATED) || flag(bpf.SensorExecFlagEXEC_ENV_UNREAD)

	ev.Argc = rec.Argc
	var truncated bool
	ev.Args, truncated = splitArgs(args, d.maxArgs)
	ev.ArgsTruncated = truncated || flag(bpf.SensorExecFlagEXEC_ARGS_TRUNCATED)
	ev.Loader, ev.LoaderTarget = loaderTarget(ev.ExePath, ev.Args)
	return nil
}

// cgroup returns the path and container of a cgroup, from the cache when
// the same id came with the same path before.
func (d *decoder) cgroup(id uint64, components []byte) cgroupInfo {
	if info, ok := d.cgroups[id]; ok && componentsEqual(components, info.path) {
		return info
	}
	path := joinComponents(components)
	info := cgroupInfo{path: path, containerID: ContainerID(path), podUID: PodUID(path)}
	if d.cgroups == nil || len(d.cgroups) >= maxCachedCgroups {
		d.cgroups = make(map[uint64]cgroupInfo)
	}
	d.cgroups[id] = info
	return info
}

// sectionReader cuts a record's variable-length sections in turn.
type sectionReader struct {
	rest []byte
	err  error
}

func (r *sectionReader) next(size int) []byte {
	if r.err != nil {
		return nil
	}
	if size > len(r.rest) {
		r.err = fmt.Errorf("%w: a %d-byte section in %d bytes", errShortRecord, size, len(r.rest))
		return nil
	}
	s := r.rest[:size]
	r.rest = r.rest[size:]
	return s
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
// max arguments. It reports whether arguments were left out. The arguments
// share one allocation. An empty block is no arguments (argc 0); a lone
// NUL is one empty argument.
func splitArgs(block []byte, max int) ([]string, bool) {
	if len(block) == 0 {
		return nil, false
	}
	block = bytes.TrimSuffix(block, []byte{0})
	all := string(block)
	args := make([]string, 0, min(strings.Count(all, "\x00")+1, max))
	for {
		if len(args) == max {
			return args, true
		}
		arg, rest, found := strings.Cut(all, "\x00")
		args = append(args, arg)
		if !found {
			return args, false
		}
		all = rest
	}
}

// joinComponents builds an absolute path from the kernel's components,
// which come leaf first, each NUL-terminated.
func joinComponents(block []byte) string {
	block = bytes.TrimSuffix(block, []byte{0})
	if len(block) == 0 {
		return "/"
	}
	var b strings.Builder
	b.Grow(len(block) + 1)
	for len(block) > 0 {
		i := bytes.LastIndexByte(block, 0)
		b.WriteByte('/')
		b.Write(block[i+1:])
		block = block[:max(i, 0)]
	}
	return b.String()
}

// componentsEqual says whether joinComponents(block) would return path,
// without building it.
func componentsEqual(block []byte, path string) bool {
	block = bytes.TrimSuffix(block, []byte{0})
	if len(block) == 0 {
		return path == "/"
	}
	for len(block) > 0 {
		i := bytes.LastIndexByte(block, 0)
		name := block[i+1:]
		if len(path) < 1+len(name) || path[0] != '/' || path[1:1+len(name)] != string(name) {
			return false
		}
		path = path[1+len(name):]
		block = block[:max(i, 0)]
	}
	return path == ""
}

// allowedEnv keeps the NAME=value entries whose name is allow-listed.
func (d *decoder) allowedEnv(block []byte) map[string]string {
	if len(block) == 0 {
		return nil
	}
	var env map[string]string
	for entry := range strings.SplitSeq(string(bytes.TrimSuffix(block, []byte{0})), "\x00") {
		name, value, ok := strings.Cut(entry, "=")
		if !ok || !d.env[name] {
			continue
		}
		if env == nil {
			env = make(map[string]string)
		}
		env[name] = value
	}
	return env
}

// writableBy says whether a user may write a file, by its permission bits
// alone: owner, group, then others.
func writableBy(mode, fileUID, fileGID, uid, gid uint32) bool {
	switch {
	case fileUID == uid:
		return mode&0o200 != 0
	case fileGID == gid:
		return mode&0o020 != 0
	}
	return mode&0o002 != 0
}

// loaderTarget says whether exe is the dynamic loader and, when it is,
// which program it was asked to run: the first argument that is not one of
// the loader's options.
func loaderTarget(exe string, args []string) (bool, string) {
	base := path.Base(exe)
	if !(strings.HasPrefix(base, "ld-") || strings.HasPrefix(base, "ld64.")) || !strings.Contains(base, ".so") {
		return false, ""
	}
	for i := 1; i < len(args); i++ {
		switch a := args[i]; {
		case a == "--":
			if i+1 < len(args) {
				return true, args[i+1]
			}
			return true, ""
		case a == "--library-path" || a == "--preload" || a == "--audit" || a == "--argv0" || a == "--glibc-hwcaps-mask" || a == "--glibc-hwcaps-prepend":
			i++ // the option's value
		case strings.HasPrefix(a, "--"):
		default:
			return true, a
		}
	}
	return true, ""
}

// cString returns the NUL-terminated string at the start of b.
func cString[T ~int8 | ~uint8](b []T) string {
	buf := unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(b))), len(b))
	if i := bytes.IndexByte(buf, 0); i >= 0 {
		buf = buf[:i]
	}
	return string(buf)
}
