package recipe

import (
	"path"

	"github.com/vigil-otel/vigil/event"
	"github.com/vigil-otel/vigil/internal/literal"
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
	// Env tests environment variables the sensor reads (its allow-list):
	// each one listed must be set and its value must match. The first is
	// the one the engine files the match under.
	Env []EnvMatch
	// AnyOf holds when at least one of its alternatives does: a tool
	// known by its program name or by its script's name, say.
	AnyOf []Match
	// CEL is an expression over the exec (see docs/recipes.md) for what
	// the fields above cannot say; empty when unused.
	CEL     string
	program *celProgram
	// celArgs holds sets of literals the expression needs: for each, some
	// argument (argv[0] included) contains one of its literals.
	celArgs []*literal.Set
	// flagMask holds the flags that are set above, flagWant their values:
	// all the flags are tested in one comparison.
	flagMask, flagWant flagSet
}

// flagSet holds an exec's flags, one bit each.
type flagSet uint8

const (
	flagTTY flagSet = 1 << iota
	flagContainer
	flagSetID
	flagLoader
	flagMemfd
	flagDeleted
	flagOverlayUpper
	flagUserWritable
)

// compileFlags sets flagMask and flagWant from the flag fields.
func (m *Match) compileFlags() {
	for _, f := range []struct {
		want *bool
		bit  flagSet
	}{
		{m.TTY, flagTTY}, {m.Container, flagContainer}, {m.SetID, flagSetID}, {m.Loader, flagLoader},
		{m.Memfd, flagMemfd}, {m.Deleted, flagDeleted}, {m.OverlayUpper, flagOverlayUpper},
		{m.UserWritable, flagUserWritable},
	} {
		if f.want == nil {
			continue
		}
		m.flagMask |= f.bit
		if *f.want {
			m.flagWant |= f.bit
		}
	}
}

// flagsOf returns the flags of an exec.
func flagsOf(ev *event.Event) flagSet {
	return bitIf(ev.TTY != "", flagTTY) | bitIf(ev.ContainerID != "", flagContainer) | bitIf(ev.SetID, flagSetID) |
		bitIf(ev.Loader, flagLoader) | bitIf(ev.File.Memfd, flagMemfd) | bitIf(ev.File.Deleted, flagDeleted) |
		bitIf(ev.File.OverlayUpper, flagOverlayUpper) | bitIf(ev.File.UserWritable, flagUserWritable)
}

func bitIf(have bool, bit flagSet) flagSet {
	if have {
		return bit
	}
	return 0
}

// EnvMatch tests one environment variable: it is set, and its value
// matches Value (any value, an empty one included, when Value is empty).
type EnvMatch struct {
	Name  string
	Value StringMatch
}

// envMatches says whether every variable m.Env names is set and matches.
func (m *Match) envMatches(env map[string]string) bool {
	for i := range m.Env {
		v, ok := env[m.Env[i].Name]
		if !ok || !m.Env[i].Value.Match(v) {
			return false
		}
	}
	return true
}

// FileMatch tests a program's path, its name, and its directory.
type FileMatch struct {
	Path StringMatch
	Name StringMatch
	Dir  StringMatch
}

// match tests another process's program, splitting its path only as far
// as the test needs.
func (m *FileMatch) match(exe string) bool {
	return m.Path.Match(exe) && (m.Name.IsZero() || m.Name.matchAny(path.Base(exe))) &&
		(m.Dir.IsZero() || m.Dir.matchAny(path.Dir(exe)))
}

// matchExec tests the exec's own program, split once for all recipes.
func (m *FileMatch) matchExec(x *exec) bool {
	return m.Path.Match(x.Process.Exe) && m.Name.Match(x.name) && (m.Dir.IsZero() || m.Dir.matchAny(x.dirName()))
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

func (in *Input) parent() *proctable.Process { return in.up(in.Process) }

// up returns the parent of p, one of the input's process tree, or nil at
// the top of the tree or where the table does not know it.
func (in *Input) up(p *proctable.Process) *proctable.Process {
	if in.Processes == nil || p.PPID == 0 || p.PPID == p.PID {
		return nil
	}
	return in.Processes.Lookup(p.PPID)
}

// maxAncestry bounds the ancestors that a limit per ancestry and the CEL
// variable ancestors walk up to.
const maxAncestry = 16

// exec is an input as the matchers see it: what many recipes test is
// worked out once per exec, not once per recipe.
type exec struct {
	*Input
	name  string // the program's file name
	flags flagSet
	// dir is the program's directory, worked out when first asked for.
	dir     string
	haveDir bool
	// evalErr is the first error of an expression evaluated since the
	// engine last cleared it.
	evalErr error
}

func (x *exec) reset(in *Input) {
	*x = exec{Input: in, name: path.Base(in.Process.Exe), flags: flagsOf(in.Event)}
}

func (x *exec) dirName() string {
	if !x.haveDir {
		x.dir, x.haveDir = path.Dir(x.Process.Exe), true
	}
	return x.dir
}

// matches evaluates m, cheapest tests first: the program and the flags,
// then the process tree (a few table lookups), then the arguments, whose
// patterns may be long, and CEL last.
func (m *Match) matches(x *exec) bool {
	in, ev, p := x.Input, x.Event, x.Process
	if x.flags&m.flagMask != m.flagWant || !m.Executable.matchExec(x) || !m.envMatches(ev.Env) {
		return false
	}
	if !m.User.match(ev) || !m.Cwd.Match(ev.Cwd) || !m.PrevExecutable.Match(p.PrevExe()) {
		return false
	}
	if !m.Script.IsZero() && (ev.Script == "" || !m.Script.matchAny(ev.Script)) {
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
	if len(m.AnyOf) > 0 && !m.anyOfMatches(x) {
		return false
	}
	return m.program == nil || m.celMayHold(p.Args) && m.program.eval(x)
}

// celMayHold says whether the arguments have what the expression needs.
func (m *Match) celMayHold(args []string) bool {
	for _, need := range m.celArgs {
		if !anyContains(need, args) {
			return false
		}
	}
	return true
}

func anyContains(need *literal.Set, strs []string) bool {
	for _, s := range strs {
		if need.Contains(s) {
			return true
		}
	}
	return false
}

func (m *Match) ancestorMatches(in *Input) bool {
	p := in.Process
	for range m.Ancestor.Depth {
		if p = in.up(p); p == nil {
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
func (m *Match) anyOfMatches(x *exec) bool {
	for i := range m.AnyOf {
		if m.AnyOf[i].matches(x) {
			return true
		}
	}
	return false
}
