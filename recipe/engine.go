package recipe

import (
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Engine matches execs against a compiled catalog. Recipes are indexed by
// what they require of the program (its name, its path, its directory),
// of its arguments or of its flags, so one exec is checked against the few
// recipes that can match it, not all of them.
//
// An Engine keeps state (the limits' windows) and is not safe for
// concurrent use: one goroutine matches.
type Engine struct {
	byName       map[string][]*compiled
	byPath       map[string][]*compiled
	byDir        map[string][]*compiled
	byArg        map[string][]*compiled
	pathPrefixes prefixIndex
	namePrefixes prefixIndex // python, for python3.11
	// byFlags holds the recipes known only by flags the exec must have
	// (memfd, setid...), which few execs have.
	byFlags  []flagEntry
	residual []*compiled
	recipes  []*Recipe
	enabled  []*compiled
	// byEnv files recipes under an environment variable the exec must
	// have; envNames lists its keys, looked up in each exec's variables.
	byEnv    map[string][]*compiled
	envNames []string
	// sequences are the sequence recipes' states; touched those whose
	// steps the exec being matched matched.
	sequences []*compiled
	touched   []*compiled

	// stamp marks the recipes already checked in one Match call.
	stamp uint64
	// key is where a limit's key is built, so that looking up its window
	// allocates nothing.
	key []byte
	// evalErrors counts the expressions that failed at run time, of every
	// recipe; log is where the first failure of each recipe is told.
	evalErrors uint64
	log        *slog.Logger
}

type compiled struct {
	*Recipe
	// supersededBy are the matches of the enabled recipes that supersede
	// this one: more exceptions.
	supersededBy []*Match
	stamp        uint64
	// windows counts reports per limit key in the current window.
	windows    map[string]*window
	suppressed uint64
	// evalErrors counts the recipe's expressions that failed at run time.
	evalErrors uint64

	// A sequence recipe is filed once per step: seq is its state and
	// step the step this entry matches; owner is the recipe's own entry,
	// which holds its limit and state. Both are unset for other recipes.
	seq   *sequenceState
	step  int
	owner *compiled
}

type window struct {
	start time.Time
	count int
}

// prefixIndex files recipes under string prefixes, by the prefix's first
// byte: a string is compared only with the prefixes that start like it.
type prefixIndex [256][]prefixEntry

type prefixEntry struct {
	prefix string
	recipe *compiled
}

func (idx *prefixIndex) add(prefixes []string, c *compiled) {
	for _, p := range prefixes {
		idx[p[0]] = append(idx[p[0]], prefixEntry{prefix: p, recipe: c})
	}
}

type flagEntry struct {
	want   flagSet
	recipe *compiled
}

// NewEngine compiles recipes into an engine. Disabled recipes are kept
// for listing but never match.
func NewEngine(recipes []*Recipe) *Engine {
	e := &Engine{
		byName: make(map[string][]*compiled),
		byPath: make(map[string][]*compiled),
		byDir:  make(map[string][]*compiled),
		byArg:  make(map[string][]*compiled),
		byEnv:  make(map[string][]*compiled),
		log:    slog.Default(),
	}
	for _, r := range recipes {
		e.recipes = append(e.recipes, r)
		if !r.Enabled {
			continue
		}
		c := &compiled{Recipe: r}
		e.enabled = append(e.enabled, c)
		if r.Sequence == nil {
			e.file(c, &r.Match)
			continue
		}
		c.seq = newSequenceState(r.Sequence)
		e.sequences = append(e.sequences, c)
		for i := range r.Sequence.Steps {
			e.file(&compiled{Recipe: r, seq: c.seq, step: i, owner: c}, &r.Sequence.Steps[i].Match)
		}
	}
	byName := make(map[string]*compiled, len(e.enabled))
	for _, c := range e.enabled {
		byName[c.Name] = c
	}
	for _, c := range e.enabled {
		if c.seq != nil {
			continue // the loader refuses supersedes with sequences
		}
		for _, name := range c.Supersedes {
			if weaker := byName[name]; weaker != nil && weaker != c && weaker.seq == nil {
				weaker.supersededBy = append(weaker.supersededBy, &c.Match)
			}
		}
	}
	return e
}

// file indexes c by m, or keeps it among the recipes checked on every
// exec when m requires nothing an index knows.
func (e *Engine) file(c *compiled, m *Match) {
	switch alts := m.AnyOf; {
	case keyOf(m) != noKey:
		e.index(c, m)
	case len(alts) > 0 && !slices.ContainsFunc(alts, func(m Match) bool { return keyOf(&m) == noKey }):
		// No key of its own, but each alternative has one.
		for i := range alts {
			e.index(c, &alts[i])
		}
	default:
		e.residual = append(e.residual, c)
	}
}

// indexKey names the index that can file a match: by what it requires of
// every exec it matches.
type indexKey int

const (
	noKey   indexKey = iota
	nameKey          // the program's name, exactly or by prefix
	pathKey          // its path, exactly or by prefix
	dirKey           // its directory, exactly
	argKey           // an argument, exactly
	flagKey          // sensor flags
	envKey           // an environment variable, set
)

// keyOf returns the index that can file m, noKey when none can.
func keyOf(m *Match) indexKey {
	exe := &m.Executable
	switch {
	case exe.Name.keyed():
		return nameKey
	case exe.Path.keyed():
		return pathKey
	case exe.Dir.onlyExact():
		return dirKey
	case m.Args.Any.onlyExact():
		return argKey
	case m.flagWant != 0:
		return flagKey
	case len(m.Env) > 0:
		return envKey
	}
	return noKey
}

// index files c under what m, which has a key, requires of every exec it
// matches. A recipe may be filed under several keys; the stamp keeps it
// from being checked twice for one exec.
func (e *Engine) index(c *compiled, m *Match) {
	exe := &m.Executable
	switch keyOf(m) {
	case nameKey:
		addAll(e.byName, exe.Name.Exact, c)
		e.namePrefixes.add(exe.Name.Prefix, c)
	case pathKey:
		addAll(e.byPath, exe.Path.Exact, c)
		e.pathPrefixes.add(exe.Path.Prefix, c)
	case dirKey:
		addAll(e.byDir, exe.Dir.Exact, c)
	case argKey:
		addAll(e.byArg, m.Args.Any.Exact, c)
	case flagKey:
		e.byFlags = append(e.byFlags, flagEntry{want: m.flagWant, recipe: c})
	case envKey:
		name := m.Env[0].Name
		if _, ok := e.byEnv[name]; !ok {
			e.envNames = append(e.envNames, name)
		}
		e.byEnv[name] = append(e.byEnv[name], c)
	}
}

func addAll(index map[string][]*compiled, keys []string, c *compiled) {
	for _, k := range keys {
		index[k] = append(index[k], c)
	}
}

// Recipes returns every recipe of the engine, disabled ones included.
func (e *Engine) Recipes() []*Recipe { return e.recipes }

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
		dst = append(dst, Hit{Recipe: c.Recipe, Steps: pt.steps[:len(pt.steps)-1]})
	}
	return dst
}

func (e *Engine) check(cs []*compiled, x *exec, dst []Hit) []Hit {
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

func (e *Engine) checkOne(c *compiled, x *exec, dst []Hit) []Hit {
	if c.stamp == e.stamp {
		return dst
	}
	c.stamp = e.stamp
	m := &c.Match
	if c.seq != nil {
		if c.step > 0 && c.seq.live == 0 {
			return dst // a later step, and no sequence begun to take it
		}
		m = &c.Sequence.Steps[c.step].Match
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
	return append(dst, Hit{Recipe: c.Recipe})
}

// excepted says one of the recipe's exceptions holds for the exec.
func (c *compiled) excepted(x *exec) bool {
	for i := range c.Unless {
		if c.Unless[i].matches(x) {
			return true
		}
	}
	return false
}

// evalFailed counts an expression of c's recipe that failed at run time,
// and so did not hold, and logs the recipe's first: one broken expression
// fails on many execs, and would otherwise flood the log. The expressions
// of the recipes that supersede c are counted against their own recipe,
// checked for the same exec.
func (e *Engine) evalFailed(c *compiled, err error) {
	if c.owner != nil {
		c = c.owner
	}
	c.evalErrors++
	e.evalErrors++
	if c.evalErrors == 1 {
		e.log.Warn("a recipe's expression failed at run time and did not match; its failures are counted, only this first one is logged",
			"recipe", c.Name, "error", err)
	}
}

// allow applies the recipe's limit to one more match. Only the first
// match of a key in a window allocates (the key and its window).
func (e *Engine) allow(c *compiled, in *Input) bool {
	l := c.Limit
	if l == nil {
		return true
	}
	e.key = appendLimitKey(e.key[:0], l.Per, in)
	if c.windows == nil {
		c.windows = make(map[string]*window)
	}
	now := in.Event.Time
	w := c.windows[string(e.key)]
	if w == nil || now.Sub(w.start) >= l.Window || now.Before(w.start) {
		// A new window; forget the others that have run out, so the map
		// stays as small as the set of recent keys.
		for k, old := range c.windows {
			if now.Sub(old.start) >= l.Window {
				delete(c.windows, k)
			}
		}
		w = &window{start: now}
		c.windows[string(e.key)] = w
	}
	w.count++
	return w.count <= l.Count
}

// appendLimitKey appends to b what a limit counting per counts in by.
func appendLimitKey(b []byte, per LimitKey, in *Input) []byte {
	switch per {
	case PerExecutable:
		return append(b, in.Process.Exe...)
	case PerParent:
		if p := in.parent(); p != nil {
			return append(b, p.Exe...)
		}
	case PerAncestry:
		for p, n := in.Process, 0; n < maxAncestry; n++ {
			if p = in.up(p); p == nil {
				break
			}
			b = append(append(b, p.Exe...), '\n')
		}
	case PerProcess:
		return strconv.AppendUint(b, uint64(in.Process.PID), 10)
	}
	return b
}

// Evicted returns how many sequences begun the engine forgot to keep its
// state within bounds: chances of a detection lost.
func (e *Engine) Evicted() uint64 {
	var n uint64
	for _, c := range e.sequences {
		n += c.seq.evicted
	}
	return n
}

// EvalErrorCount returns how many times the recipes' expressions failed
// at run time.
func (e *Engine) EvalErrorCount() uint64 {
	return e.evalErrors
}

// EvalErrors returns, by recipe name, how many times its expressions
// failed at run time.
func (e *Engine) EvalErrors() map[string]uint64 {
	return e.byRecipe(func(c *compiled) uint64 { return c.evalErrors })
}

// Suppressed returns, by recipe name, how many matches limits held back.
func (e *Engine) Suppressed() map[string]uint64 {
	return e.byRecipe(func(c *compiled) uint64 { return c.suppressed })
}

// byRecipe returns one count of each enabled recipe, by name, leaving out
// the zeros.
func (e *Engine) byRecipe(count func(*compiled) uint64) map[string]uint64 {
	out := make(map[string]uint64)
	for _, c := range e.enabled {
		if n := count(c); n > 0 {
			out[c.Name] = n
		}
	}
	return out
}
