package recipe

import (
	"errors"
	"fmt"
	"hash/maphash"
	"log/slog"
	"strings"
)

// Engine matches execs against recipes it compiled. Recipes are indexed by
// what they require of the program (its name, its path, its directory),
// of its arguments or of its flags, so one exec is checked against the few
// recipes that can match it, not all of them.
//
// An Engine keeps state (the limits' windows, the sequences begun) and is
// not safe for concurrent use: one goroutine matches.
type Engine struct {
	byName       map[string][]*entry
	byPath       map[string][]*entry
	byDir        map[string][]*entry
	byArg        map[string][]*entry
	pathPrefixes prefixIndex
	namePrefixes prefixIndex // python, for python3.11
	// byFlags holds the recipes known only by flags the exec must have
	// (memfd, setid...), which few execs have.
	byFlags  []flagEntry
	residual []*entry
	enabled  []*entry
	// byEnv files recipes under an environment variable the exec must
	// have; envNames lists its keys, looked up in each exec's variables.
	byEnv    map[string][]*entry
	envNames []string
	// sequences are the sequence recipes' states; touched those whose
	// steps the exec being matched matched.
	sequences []*entry
	touched   []*entry

	// stamp marks the recipes already checked in one Match call.
	stamp uint64
	// hash hashes limits' keys, with a seed of its own (see limit.go).
	hash maphash.Hash
	// limitEvictions counts the limits' windows forgotten early.
	limitEvictions uint64
	// evalErrors counts the expressions that failed at run time, of every
	// recipe; log is where the first failure of each recipe is told.
	evalErrors uint64
	log        *slog.Logger
}

// entry is a recipe's program as the engine files it, with what the
// engine keeps of the recipe between execs.
type entry struct {
	*program
	// supersededBy are the matches of the enabled recipes that supersede
	// this one: more exceptions.
	supersededBy []*matcher
	stamp        uint64
	// limiter counts reports per limit key in the current window.
	limiter    limiter
	suppressed uint64
	// evalErrors counts the recipe's expressions that failed at run time.
	evalErrors uint64

	// A sequence recipe is filed once per step: seq is its state and
	// step the step this entry matches; owner is the recipe's own entry,
	// which holds its limit and state. Both are unset for other recipes.
	seq   *sequenceState
	step  int
	owner *entry
}

// NewEngine compiles recipes into an engine: it checks each, builds what
// matching runs, and files the enabled ones in its indexes. Disabled
// recipes are checked, but never match. A recipe that does not make sense
// fails NewEngine, with an [*Error] naming it, the field and, for a recipe
// read from a file, its file:line; recipes that the loaders return always
// compile.
//
// The engine keeps its own copy of what it matches, and of what a [Hit]
// says of the recipe (its name, version, description, ATT&CK, importance,
// reference, ruleset, source): editing a recipe afterwards changes nothing
// of the engine, and the caller's recipes, their pages and tests with
// them, need not outlive NewEngine.
func NewEngine(recipes []*Recipe) (*Engine, error) {
	scope, err := newCELScope()
	if err != nil {
		return nil, err
	}
	progs := make([]*program, len(recipes))
	var errs []error
	names := make(map[string]bool, len(recipes))
	for i, r := range recipes {
		var cerrs []*Error
		progs[i], cerrs = compile(r, scope)
		if names[r.Name] {
			cerrs = append(cerrs, &Error{Recipe: r.Name, Field: "name", Reason: "another recipe has this name"})
		}
		names[r.Name] = true
		for _, e := range cerrs {
			errs = append(errs, locateAtSource(e, r.Source))
		}
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("compile recipes: %w", errors.Join(errs...))
	}
	return newEngine(progs), nil
}

// newEngine files compiled recipes.
func newEngine(progs []*program) *Engine {
	e := &Engine{
		byName: make(map[string][]*entry),
		byPath: make(map[string][]*entry),
		byDir:  make(map[string][]*entry),
		byArg:  make(map[string][]*entry),
		byEnv:  make(map[string][]*entry),
		log:    slog.Default(),
	}
	for _, p := range progs {
		if !p.enabled {
			continue
		}
		c := &entry{program: p}
		e.enabled = append(e.enabled, c)
		if p.sequence == nil {
			e.file(c, &p.match)
			continue
		}
		c.seq = newSequenceState(p.sequence)
		e.sequences = append(e.sequences, c)
		for i := range p.sequence.steps {
			e.file(&entry{program: p, seq: c.seq, step: i, owner: c}, &p.sequence.steps[i].match)
		}
	}
	byName := make(map[string]*entry, len(e.enabled))
	for _, c := range e.enabled {
		byName[c.name] = c
	}
	for _, c := range e.enabled {
		if c.seq != nil {
			continue // a sequence recipe neither supersedes nor is superseded
		}
		for _, name := range c.supersedes {
			if weaker := byName[name]; weaker != nil && weaker != c && weaker.seq == nil {
				weaker.supersededBy = append(weaker.supersededBy, &c.match)
			}
		}
	}
	return e
}

// Match appends to dst the recipes that fire on in, and returns the
// extended slice. A recipe over its limit does not fire; it counts the
// suppressed match. Match allocates nothing for an exec that fires no
// recipe and takes no sequence a step further, which is most of them.
func (e *Engine) Match(in *Input, dst []Hit) []Hit {
	e.stamp++
	e.touched = e.touched[:0]
	var x exec
	x.reset(in)
	exe := in.Process.Exe
	dst = e.check(e.byName[x.name], &x, dst)
	dst = e.check(e.byPath[exe], &x, dst)
	if len(e.byDir) > 0 {
		dst = e.check(e.byDir[x.dirName()], &x, dst)
	}
	dst = e.checkPrefixed(&e.pathPrefixes, exe, &x, dst)
	dst = e.checkPrefixed(&e.namePrefixes, x.name, &x, dst)
	if len(e.byArg) > 0 && len(in.Process.Args) > 1 {
		for _, a := range in.Process.Args[1:] {
			dst = e.check(e.byArg[a], &x, dst)
		}
	}
	for i := range e.byFlags {
		if x.flags&e.byFlags[i].want == e.byFlags[i].want {
			dst = e.checkOne(e.byFlags[i].recipe, &x, dst)
		}
	}
	// The few variables recipes are filed under, looked up in the exec's
	// own: in the order they were filed, so that detections come in a
	// stable order.
	if len(in.Event.Env) > 0 {
		for _, name := range e.envNames {
			if _, ok := in.Event.Env[name]; ok {
				dst = e.check(e.byEnv[name], &x, dst)
			}
		}
	}
	dst = e.check(e.residual, &x, dst)
	// Sequences move once every step the exec matches is known.
	for _, c := range e.touched {
		pt := c.seq.advance(&x, e.stamp)
		if pt == nil {
			continue
		}
		if !e.allow(c, in) {
			c.suppressed++
			continue
		}
		dst = append(dst, Hit{Recipe: c.recipe, Steps: pt.steps[:len(pt.steps)-1]})
	}
	return dst
}

func (e *Engine) check(cs []*entry, x *exec, dst []Hit) []Hit {
	for _, c := range cs {
		dst = e.checkOne(c, x, dst)
	}
	return dst
}

// checkPrefixed checks the recipes filed in idx under a prefix of s.
func (e *Engine) checkPrefixed(idx *prefixIndex, s string, x *exec, dst []Hit) []Hit {
	if s == "" {
		return dst
	}
	for _, p := range idx[s[0]] {
		if strings.HasPrefix(s, p.prefix) {
			dst = e.checkOne(p.recipe, x, dst)
		}
	}
	return dst
}

func (e *Engine) checkOne(c *entry, x *exec, dst []Hit) []Hit {
	if c.stamp == e.stamp {
		return dst
	}
	c.stamp = e.stamp
	m := &c.match
	if c.seq != nil {
		if c.step > 0 && c.seq.live == 0 {
			return dst // a later step, and no sequence begun to take it
		}
		m = &c.sequence.steps[c.step].match
	}
	x.evalErr = nil
	held := m.matches(x) && !c.excepted(x)
	if x.evalErr != nil {
		e.evalFailed(c, x.evalErr)
	}
	if !held {
		return dst
	}
	if c.seq != nil {
		// A step matched: the sequence moves after every step is known.
		if c.seq.stamp != e.stamp {
			c.seq.stamp, c.seq.matched = e.stamp, 0
			e.touched = append(e.touched, c.owner)
		}
		c.seq.matched |= 1 << c.step
		return dst
	}
	for _, m := range c.supersededBy {
		if m.matches(x) {
			return dst
		}
	}
	if !e.allow(c, x.Input) {
		c.suppressed++
		return dst
	}
	return append(dst, Hit{Recipe: c.recipe})
}

// excepted says one of the recipe's exceptions holds for the exec.
func (c *entry) excepted(x *exec) bool {
	for i := range c.unless {
		if c.unless[i].matches(x) {
			return true
		}
	}
	return false
}
