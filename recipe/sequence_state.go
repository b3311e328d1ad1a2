package recipe

import (
	"slices"
	"time"
)

// Step is an exec that took a sequence recipe one step further.
type Step struct {
	PID  uint32
	Time time.Time
	Exe  string
	Args []string
}

// Hit is one recipe firing on an exec.
type Hit struct {
	// Recipe is the engine's copy of what a detection says of the recipe:
	// its match, sequence, exceptions, limit, page and tests left out.
	Recipe *Recipe
	// Steps are, for a sequence recipe, the execs of its earlier steps,
	// oldest first; the exec that fired it is the last.
	Steps []Step
}

// Bounds of the state a sequence recipe keeps: sequences begun and not yet
// finished, per process tree and in all. Past them the oldest goes, and
// is counted.
const (
	maxPartialsPerTree   = 8
	maxPartialsPerRecipe = 1024
)

// treeKey names a process for as long as it lives: a reused pid has
// another start time.
type treeKey struct {
	pid   uint32
	start int64
}

// partial is a sequence begun in one process tree.
type partial struct {
	next   int // the step it waits for
	start  time.Time
	keys   []treeKey // the first step's process and ancestors
	values map[string]string
	steps  []Step
	names  []string // a burst's programs so far
	dead   bool
	stamp  uint64 // the exec it was last looked at for
}

// seqProgram is a compiled Sequence.
type seqProgram struct {
	steps    []stepProgram
	within   time.Duration
	depth    int
	distinct int
}

// stepProgram is a compiled SequenceStep.
type stepProgram struct {
	match   matcher
	capture []capturer
	require []Require
}

// sequenceState is what the engine keeps for one sequence recipe.
type sequenceState struct {
	prog  *seqProgram
	byKey map[treeKey][]*partial
	// order holds the partials by age, oldest first; dead ones leave it
	// lazily.
	order   []*partial
	live    int
	evicted uint64
	// matched has bit i set when the exec being matched matched step i;
	// stamp says which exec that was.
	matched uint64
	stamp   uint64
}

func newSequenceState(prog *seqProgram) *sequenceState {
	return &sequenceState{prog: prog, byKey: make(map[treeKey][]*partial)}
}

// treeKeys appends the keys of the process and of its ancestors up to
// depth levels above it: where a sequence's steps may meet. Init and the
// kernel's thread parent are everyone's ancestors, so they are no one's.
func treeKeys(in *Input, depth int, dst []treeKey) []treeKey {
	p := in.Process
	for d := 0; d <= depth && p != nil; d++ {
		if p.PID > 2 {
			dst = append(dst, treeKey{pid: p.PID, start: p.Start.UnixNano()})
		}
		p = in.up(p)
	}
	return dst
}

// advance feeds the exec being matched to the sequence, once every step
// it matches is known, and returns the partial it finished, if any.
func (s *sequenceState) advance(x *exec, stamp uint64) *partial {
	if s.live == 0 && s.matched&1 == 0 {
		return nil // nothing begun, and this exec begins nothing
	}
	now := x.Event.Time
	var buf [maxSequenceDepth + 1]treeKey
	keys := treeKeys(x.Input, s.prog.depth, buf[:0])
	var found bool // a burst already counting in this tree
	for _, k := range keys {
		for _, pt := range s.byKey[k] {
			if pt.dead || pt.stamp == stamp {
				continue
			}
			pt.stamp = stamp
			if now.Sub(pt.start) > s.prog.within || now.Before(pt.start) {
				s.drop(pt)
				continue
			}
			if s.prog.distinct > 0 {
				found = true
				if s.countBurst(pt, x) {
					return pt
				}
				continue
			}
			st := &s.prog.steps[pt.next]
			if s.matched&(1<<pt.next) == 0 || !pt.holds(st, x) {
				continue
			}
			values, ok := captures(st, x)
			if !ok {
				continue
			}
			pt.take(values, x)
			pt.next++
			if pt.next == len(s.prog.steps) {
				s.drop(pt)
				return pt
			}
		}
	}
	if s.matched&1 == 0 || found {
		return nil
	}
	values, ok := captures(&s.prog.steps[0], x)
	if !ok {
		return nil
	}
	s.begin(keys, values, x, stamp)
	return nil
}

// countBurst counts the exec's program in a burst, and says whether that
// made it whole.
func (s *sequenceState) countBurst(pt *partial, x *exec) bool {
	if s.matched&1 == 0 || slices.Contains(pt.names, x.name) {
		return false
	}
	pt.names = append(pt.names, x.name)
	pt.take(nil, x)
	if len(pt.names) < s.prog.distinct {
		return false
	}
	s.drop(pt)
	return true
}

// begin starts a partial at the exec, making room for it first.
func (s *sequenceState) begin(keys []treeKey, values map[string]string, x *exec, stamp uint64) {
	if len(keys) == 0 {
		return // a process the tree knows nothing of: no later step can meet it
	}
	now := x.Event.Time
	// The oldest partials run out first: forget them, then the oldest of
	// all if there are still too many.
	for len(s.order) > 0 && (s.order[0].dead || now.Sub(s.order[0].start) > s.prog.within) {
		if !s.order[0].dead {
			s.drop(s.order[0])
		}
		s.order = s.order[1:]
	}
	if s.live >= maxPartialsPerRecipe {
		s.evictOldest(s.order)
	}
	for _, k := range keys {
		if n := s.byKey[k]; len(n) >= maxPartialsPerTree {
			s.evictOldest(n)
		}
	}
	pt := &partial{next: 1, start: now, keys: slices.Clone(keys), stamp: stamp}
	if s.prog.distinct > 0 {
		pt.names = []string{x.name}
	}
	pt.take(values, x)
	for _, k := range pt.keys {
		s.byKey[k] = append(s.byKey[k], pt)
	}
	s.order = append(s.order, pt)
	s.live++
	if len(s.order) > 2*maxPartialsPerRecipe {
		s.order = slices.DeleteFunc(s.order, func(p *partial) bool { return p.dead })
	}
}

// evictOldest drops the oldest live partial of list, counting it.
func (s *sequenceState) evictOldest(list []*partial) {
	for _, pt := range list {
		if !pt.dead {
			s.drop(pt)
			s.evicted++
			return
		}
	}
}

// drop forgets a partial. Lists are rebuilt, not edited in place, so that
// a caller ranging over one goes on safely.
func (s *sequenceState) drop(pt *partial) {
	if pt.dead {
		return
	}
	pt.dead = true
	s.live--
	for _, k := range pt.keys {
		rest := make([]*partial, 0, len(s.byKey[k]))
		for _, o := range s.byKey[k] {
			if o != pt {
				rest = append(rest, o)
			}
		}
		if len(rest) == 0 {
			delete(s.byKey, k)
		} else {
			s.byKey[k] = rest
		}
	}
}

// take records the exec as the partial's latest step, with its captures.
func (pt *partial) take(values map[string]string, x *exec) {
	pt.steps = append(pt.steps, Step{PID: x.Process.PID, Time: x.Event.Time, Exe: x.Process.Exe, Args: x.Process.Args})
	for k, v := range values {
		if pt.values == nil {
			pt.values = make(map[string]string, len(values))
		}
		pt.values[k] = v
	}
}

// holds says whether the exec has what the step requires of earlier
// steps' values.
func (pt *partial) holds(st *stepProgram, x *exec) bool {
	cwd := x.Event.Cwd
	for _, r := range st.require {
		v := pt.values[r.Name]
		switch r.In {
		case InExecutable:
			if x.Process.Exe != v && (x.Event.Script == "" || resolve(x.Event.Script, cwd) != v) &&
				scriptOperand(x.Process.Exe, x.Process.Args, cwd) != v {
				return false
			}
		case InArgument:
			args := x.Process.Args
			if len(args) > 0 {
				args = args[1:]
			}
			if !slices.ContainsFunc(args, func(a string) bool { return a == v || resolve(a, cwd) == v }) {
				return false
			}
		}
	}
	return true
}

// captures returns the values the step captures from the exec, and false
// when one of them is not there: a download to standard output wrote no
// file for a later step to run.
func captures(st *stepProgram, x *exec) (map[string]string, bool) {
	if len(st.capture) == 0 {
		return nil, true
	}
	values := make(map[string]string, len(st.capture))
	for i := range st.capture {
		c := &st.capture[i]
		v, ok := c.take(x.Process.Args, x.Event.Cwd)
		if !ok {
			return nil, false
		}
		values[c.name] = v
	}
	return values, true
}
