package recipe

import (
	"path"

	"github.com/vigil-otel/vigil/event"
	"github.com/vigil-otel/vigil/internal/literal"
	"github.com/vigil-otel/vigil/proctable"
)

// The compiled forms of the match specs, which the engine runs: built by
// compile_match.go only, each from a spec that was checked, and never
// changed after.

// matcher is a compiled Match.
type matcher struct {
	exe            fileMatcher
	script         strMatcher
	args           argsMatcher
	parent         *processMatcher // nil: no test
	ancestor       *processMatcher // nil: no test
	ancestorDepth  int
	prevExecutable strMatcher
	user           userMatcher
	cwd            strMatcher
	// flagMask holds the flags the spec sets, flagWant their values: all
	// the flags are tested in one comparison.
	flagMask, flagWant flagSet
	env                []envMatcher
	anyOf              []matcher
	cel                *celProgram // nil: no expression
	// celArgs holds sets of literals the expression needs: for each, some
	// argument (argv[0] included) contains one of its literals.
	celArgs []*literal.Set
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

type envMatcher struct {
	name  string
	value strMatcher
}

// envMatches says whether every variable m tests is set and matches.
func (m *matcher) envMatches(env map[string]string) bool {
	for i := range m.env {
		v, ok := env[m.env[i].name]
		if !ok || !m.env[i].value.match(v) {
			return false
		}
	}
	return true
}

type fileMatcher struct {
	path, name, dir strMatcher
}

// match tests another process's program, splitting its path only as far
// as the test needs.
func (m *fileMatcher) match(exe string) bool {
	return m.path.match(exe) && (m.name.empty || m.name.matchAny(path.Base(exe))) &&
		(m.dir.empty || m.dir.matchAny(path.Dir(exe)))
}

// matchExec tests the exec's own program, split once for all recipes.
func (m *fileMatcher) matchExec(x *exec) bool {
	return m.path.match(x.Process.Exe) && m.name.match(x.name) && (m.dir.empty || m.dir.matchAny(x.dirName()))
}

type argsMatcher struct {
	any, none strMatcher
	all       []strMatcher
	// minCount and maxCount bound the number of arguments (-1: no bound).
	minCount, maxCount int
}

func (m *argsMatcher) match(args []string) bool {
	if len(args) > 0 {
		args = args[1:]
	}
	if len(args) < m.minCount || m.maxCount >= 0 && len(args) > m.maxCount {
		return false
	}
	// All usually holds the cheap prerequisites, so it goes first.
	for i := range m.all {
		if !anyArg(&m.all[i], args) {
			return false
		}
	}
	if !m.any.empty && !anyArg(&m.any, args) {
		return false
	}
	return m.none.empty || !anyArg(&m.none, args)
}

func anyArg(m *strMatcher, args []string) bool {
	for _, a := range args {
		if m.matchAny(a) {
			return true
		}
	}
	return false
}

type processMatcher struct {
	exe  fileMatcher
	args argsMatcher
}

func (m *processMatcher) match(p *proctable.Process) bool {
	return p != nil && m.exe.match(p.Exe) && m.args.match(p.Args)
}

type userMatcher struct {
	uid, euid, loginUID []uint32
	loggedIn            *bool
}

func (m *userMatcher) match(ev *event.Event) bool {
	return idIn(m.uid, ev.UID) && idIn(m.euid, ev.EUID) && idIn(m.loginUID, ev.LoginUID) &&
		(m.loggedIn == nil || *m.loggedIn == (ev.LoginUID != event.NoLoginUID))
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

// matches evaluates m, cheapest tests first: the program and the flags,
// then the process tree (a few table lookups), then the arguments, whose
// patterns may be long, and CEL last.
func (m *matcher) matches(x *exec) bool {
	in, ev, p := x.Input, x.Event, x.Process
	if x.flags&m.flagMask != m.flagWant || !m.exe.matchExec(x) || !m.envMatches(ev.Env) {
		return false
	}
	if !m.user.match(ev) || !m.cwd.match(ev.Cwd) || !m.prevExecutable.match(p.PrevExe()) {
		return false
	}
	if !m.script.empty && (ev.Script == "" || !m.script.matchAny(ev.Script)) {
		return false
	}
	if m.parent != nil && !m.parent.match(in.parent()) {
		return false
	}
	if m.ancestor != nil && !m.ancestorMatches(in) {
		return false
	}
	if !m.args.match(p.Args) {
		return false
	}
	if len(m.anyOf) > 0 && !m.anyOfMatches(x) {
		return false
	}
	return m.cel == nil || m.celMayHold(p.Args) && m.cel.eval(x)
}

// celMayHold says whether the arguments have what the expression needs.
func (m *matcher) celMayHold(args []string) bool {
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

func (m *matcher) ancestorMatches(in *Input) bool {
	p := in.Process
	for range m.ancestorDepth {
		if p = in.up(p); p == nil {
			return false
		}
		if m.ancestor.match(p) {
			return true
		}
	}
	return false
}

// anyOfMatches says whether one of m's alternatives holds. It indexes the
// slice: a matcher passed by value would be copied to the heap for each
// alternative tried.
func (m *matcher) anyOfMatches(x *exec) bool {
	for i := range m.anyOf {
		if m.anyOf[i].matches(x) {
			return true
		}
	}
	return false
}
