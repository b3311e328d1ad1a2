package recipe

import (
	"path"

	"github.com/google/cel-go/cel"

	"github.com/vigil-otel/vigil/event"
	"github.com/vigil-otel/vigil/proctable"
)

// DefaultAncestorDepth is how far up the tree an ancestor match looks when
// the recipe does not say.
const DefaultAncestorDepth = 8

// Match is what an exec must look like for a recipe to fire. Every part
// that is set must hold.
type Match struct {
	// Executable tests the program the kernel runs (for a script, its
	// interpreter).
	Executable FileMatch
	// Script tests the path of an executed script.
	Script StringMatch
	Args   ArgsMatch
	// Parent and Ancestor test the process's parent, or any ancestor up
	// to Ancestor.Depth levels.
	Parent   *ProcessMatch
	Ancestor *AncestorMatch
	// PrevExecutable tests the program the process ran before this exec
	// (the exec chain).
	PrevExecutable StringMatch
	User           UserMatch
	Cwd            StringMatch
	// Each flag, when set, must have the given value.
	TTY          *bool // the process has a controlling terminal
	Container    *bool // the process runs in a container
	SetID        *bool // the exec changed credentials
	Loader       *bool // the dynamic loader runs a program
	Memfd        *bool // the program exists only in memory
	Deleted      *bool // the program's file was deleted
	OverlayUpper *bool // the program was written into a container's upper layer
	UserWritable *bool // the user may rewrite the program
	// AnyOf holds when at least one of its alternatives does: a tool
	// known by its program name or by its script's name, say.
	AnyOf []Match
	// CEL is an expression over the exec (see docs/recipes.md) for what
	// the fields above cannot say; empty when unused.
	CEL     string
	program cel.Program
}

// FileMatch tests a program's path, its name, and its directory.
type FileMatch struct {
	Path StringMatch
	Name StringMatch
	Dir  StringMatch
}

func (m *FileMatch) isZero() bool { return m.Path.IsZero() && m.Name.IsZero() && m.Dir.IsZero() }

func (m *FileMatch) match(exe string) bool {
	return m.Path.Match(exe) && m.Name.Match(path.Base(exe)) && m.Dir.Match(path.Dir(exe))
}

// ArgsMatch tests the arguments after argv[0].
type ArgsMatch struct {
	// Any holds when some argument matches it.
	Any StringMatch
	// All holds when each of its entries matches some argument.
	All []StringMatch
	// None holds when no argument matches it.
	None StringMatch
	// MinCount and MaxCount bound the number of arguments (-1: no bound).
	MinCount, MaxCount int
}

func (m *ArgsMatch) isZero() bool {
	return m.Any.IsZero() && len(m.All) == 0 && m.None.IsZero() && m.MinCount < 0 && m.MaxCount < 0
}

func (m *ArgsMatch) match(args []string) bool {
	if len(args) > 0 {
		args = args[1:]
	}
	if m.MinCount >= 0 && len(args) < m.MinCount || m.MaxCount >= 0 && len(args) > m.MaxCount {
		return false
	}
	// All usually holds the cheap prerequisites, so it goes first.
	for i := range m.All {
		if !anyArg(&m.All[i], args) {
			return false
		}
	}
	if !m.Any.IsZero() && !anyArg(&m.Any, args) {
		return false
	}
	return m.None.IsZero() || !anyArg(&m.None, args)
}

func anyArg(m *StringMatch, args []string) bool {
	for _, a := range args {
		if m.matchAny(a) {
			return true
		}
	}
	return false
}

// ProcessMatch tests another process of the tree: its program and its
// arguments.
type ProcessMatch struct {
	Executable FileMatch
	Args       ArgsMatch
}

func (m *ProcessMatch) match(p *proctable.Process) bool {
	return p != nil && m.Executable.match(p.Exe) && m.Args.match(p.Args)
}

// AncestorMatch holds when one of the process's ancestors, up to Depth
// levels up (the parent is level 1), matches.
type AncestorMatch struct {
	ProcessMatch
	Depth int
}

// UserMatch tests credentials after the exec.
type UserMatch struct {
	UID, EUID []uint32
	// LoginUID tests the audit login user; LoggedIn whether there is one.
	LoginUID []uint32
	LoggedIn *bool
}

func (m *UserMatch) match(ev *event.Event) bool {
	return idIn(m.UID, ev.UID) && idIn(m.EUID, ev.EUID) && idIn(m.LoginUID, ev.LoginUID) &&
		flag(m.LoggedIn, ev.LoginUID != event.NoLoginUID)
}

func idIn(ids []uint32, id uint32) bool {
	if len(ids) == 0 {
		return true
	}
	for _, v := range ids {
		if v == id {
			return true
		}
	}
	return false
}

func flag(want *bool, have bool) bool { return want == nil || *want == have }

// Lookup finds processes by pid; the process table is one.
type Lookup interface {
	Lookup(pid uint32) *proctable.Process
}

// Input is what a recipe is matched against: an exec, the process after
// it, and the table to find its ancestors in.
type Input struct {
	Event     *event.Event
	Process   *proctable.Process
	Processes Lookup
}

func (in *Input) parent() *proctable.Process {
	if in.Processes == nil || in.Process.PPID == 0 {
		return nil
	}
	return in.Processes.Lookup(in.Process.PPID)
}

// matches evaluates m, cheapest tests first: the program and the flags,
// then the process tree (a few table lookups), then the arguments, whose
// patterns may be long, and CEL last.
func (m *Match) matches(in *Input) bool {
	ev, p := in.Event, in.Process
	if !m.Executable.match(p.Exe) {
		return false
	}
	if !flag(m.Loader, ev.Loader) || !flag(m.Memfd, ev.File.Memfd) || !flag(m.Deleted, ev.File.Deleted) ||
		!flag(m.OverlayUpper, ev.File.OverlayUpper) || !flag(m.UserWritable, ev.File.UserWritable) ||
		!flag(m.SetID, ev.SetID) || !flag(m.TTY, ev.TTY != "") || !flag(m.Container, ev.ContainerID != "") {
		return false
	}
	if !m.User.match(ev) || !m.Cwd.Match(ev.Cwd) || !m.PrevExecutable.Match(p.PrevExe()) {
		return false
	}
	if !m.Script.IsZero() && (ev.Script == "" || !m.Script.Match(ev.Script)) {
		return false
	}
	if m.Parent != nil && !m.Parent.match(in.parent()) {
		return false
	}
	if m.Ancestor != nil && !m.ancestorMatches(in) {
		return false
	}
	if !m.Args.match(p.Args) {
		return false
	}
	if len(m.AnyOf) > 0 && !m.anyOfMatches(in) {
		return false
	}
	return m.program == nil || evalCEL(m.program, in)
}

func (m *Match) ancestorMatches(in *Input) bool {
	if in.Processes == nil {
		return false
	}
	p := in.Process
	for range m.Ancestor.Depth {
		if p.PPID == 0 || p.PPID == p.PID {
			return false
		}
		if p = in.Processes.Lookup(p.PPID); p == nil {
			return false
		}
		if m.Ancestor.match(p) {
			return true
		}
	}
	return false
}

// anyOfMatches says whether one of m's alternatives holds. It indexes the
// slice: a Match passed by value would be copied to the heap for each
// alternative tried.
func (m *Match) anyOfMatches(in *Input) bool {
	for i := range m.AnyOf {
		if m.AnyOf[i].matches(in) {
			return true
		}
	}
	return false
}
