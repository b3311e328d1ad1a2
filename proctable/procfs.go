package proctable

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/vigil-otel/vigil/internal/boottime"
	"github.com/vigil-otel/vigil/internal/execenv"
)

// userHZ is the unit of the start times in /proc/PID/stat: USER_HZ, 100 on
// every architecture Linux supports today.
const userHZ = 100

// procfs reads processes from a mounted procfs.
type procfs struct {
	root string
	// clock turns start ticks, counted since boot, into times.
	clock boottime.Clock
}

func newProcfs(root string) (procfs, error) {
	clock, err := boottime.Read()
	if err != nil {
		return procfs{}, err
	}
	return procfs{root: root, clock: clock}, nil
}

// pids lists the process ids in procfs.
func (fs procfs) pids() ([]uint32, error) {
	if fs.root == "" {
		return nil, nil
	}
	entries, err := os.ReadDir(fs.root)
	if err != nil {
		return nil, fmt.Errorf("list processes: %w", err)
	}
	pids := make([]uint32, 0, len(entries))
	for _, e := range entries {
		if pid, err := strconv.ParseUint(e.Name(), 10, 32); err == nil {
			pids = append(pids, uint32(pid))
		}
	}
	return pids, nil
}

// errNoProcfs is what a table without procfs answers for processes it
// has not seen.
var errNoProcfs = errors.New("no procfs")

// read builds a Process from procfs.
func (fs procfs) read(pid uint32) (*Process, error) {
	if fs.root == "" {
		return nil, errNoProcfs
	}
	dir := filepath.Join(fs.root, strconv.FormatUint(uint64(pid), 10))
	stat, err := os.ReadFile(filepath.Join(dir, "stat"))
	if err != nil {
		return nil, fmt.Errorf("read process %d: %w", pid, err)
	}
	ppid, startTicks, err := parseStat(stat)
	if err != nil {
		return nil, fmt.Errorf("parse %s/stat: %w", dir, err)
	}
	p := &Process{
		PID:   pid,
		PPID:  ppid,
		Start: fs.clock.Time(time.Duration(startTicks) * time.Second / userHZ),
	}
	// Kernel threads have neither an executable nor a command line.
	p.Exe, _ = os.Readlink(filepath.Join(dir, "exe"))
	if cmdline, err := readBounded(filepath.Join(dir, "cmdline"), maxCmdline); err == nil && len(cmdline) > 0 {
		p.Args = strings.Split(string(bytes.TrimSuffix(cmdline, []byte{0})), "\x00")
	}
	// A process older than vigil runs in the trace its environment named
	// when it exec'd, as one vigil saw exec would; one that is not valid
	// is ignored (not counted: that counts execs).
	p.Trace, _ = envTraceContext(traceEnv(filepath.Join(dir, "environ")))
	return p, nil
}

// maxCmdline and maxEnviron bound how much of a process's command line
// and environment is read: as much as the sensor keeps of an exec's
// arguments at most, and enough for any CI job's environment.
const (
	maxCmdline = 32 << 10
	maxEnviron = 256 << 10
)

// readBounded reads at most max bytes of the file at path.
func readBounded(path string, max int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(io.LimitReader(f, max))
}

// traceEnv returns the trace context variables (TRACEPARENT, TRACESTATE)
// of the environment in the procfs file path, and nothing else of it; nil
// when it names none or cannot be read.
func traceEnv(path string) map[string]string {
	data, err := readBounded(path, maxEnviron)
	if err != nil {
		return nil
	}
	var env map[string]string
	for kv := range bytes.SplitSeq(data, []byte{0}) {
		name, value, _ := bytes.Cut(kv, []byte{'='})
		switch string(name) {
		case execenv.TraceParent, execenv.TraceState:
			if env == nil {
				env = make(map[string]string, 2)
			}
			env[string(name)] = string(value)
		}
	}
	return env
}

// parseStat returns the parent pid and start time (in USER_HZ ticks since
// boot) from the contents of /proc/PID/stat. The command name, in
// parentheses, may itself hold spaces and parentheses, so fields are
// counted from the last ')'.
func parseStat(stat []byte) (ppid uint32, startTicks uint64, err error) {
	end := bytes.LastIndexByte(stat, ')')
	if end < 0 {
		return 0, 0, errors.New("no command name")
	}
	// After ") ": state(3) ppid(4) ... starttime(22), numbered as in proc(5).
	fields := strings.Fields(string(stat[end+1:]))
	const ppidField, startField = 4 - 3, 22 - 3
	if len(fields) <= startField {
		return 0, 0, fmt.Errorf("%d fields after the command name", len(fields))
	}
	p, err := strconv.ParseUint(fields[ppidField], 10, 32)
	if err != nil {
		return 0, 0, fmt.Errorf("ppid: %w", err)
	}
	start, err := strconv.ParseUint(fields[startField], 10, 64)
	if err != nil {
		return 0, 0, fmt.Errorf("starttime: %w", err)
	}
	return uint32(p), start, nil
}
