package recipe

import (
	"path"
	"strconv"
	"strings"
	"time"
)

// Engine matches execs against a compiled catalog. Recipes are indexed by
// what they require of the program (its name, its path, its directory) or
// of its arguments, so one exec is checked against the few recipes that
// can match it, not all of them.
//
// An Engine keeps state (the limits' windows) and is not safe for
// concurrent use: one goroutine matches.
type Engine struct {
	byName       map[string][]*compiled
	byPath       map[string][]*compiled
	byDir        map[string][]*compiled
	byArg        map[string][]*compiled
	prefixes     []prefixEntry // by path prefix
	namePrefixes []prefixEntry // by file name prefix: python, for python3.11
	residual     []*compiled
	recipes      []*Recipe
	enabled      []*compiled

	// stamp marks the recipes already checked in one Match call.
	stamp uint64
}

type compiled struct {
	*Recipe
	stamp uint64
	// windows counts reports per limit key in the current window.
	windows    map[string]*window
	suppressed uint64
}

type window struct {
	start time.Time
	count int
}

type prefixEntry struct {
	prefix string
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
	}
	for _, r := range recipes {
		e.recipes = append(e.recipes, r)
		if !r.Enabled {
			continue
		}
		c := &compiled{Recipe: r}
		e.enabled = append(e.enabled, c)
		if e.index(c, &r.Match) {
			continue
		}
		// No key of its own: each alternative may have one.
		indexed := len(r.Match.AnyOf) > 0
		for i := range r.Match.AnyOf {
			indexed = indexed && e.index(c, &r.Match.AnyOf[i])
		}
		if !indexed {
			e.residual = append(e.residual, c)
		}
	}
	return e
}

// index files c under what m requires of every exec it matches, and says
// whether m has such a key. A recipe may be filed under several keys; the
// stamp keeps it from being checked twice for one exec.
func (e *Engine) index(c *compiled, m *Match) bool {
	exe := &m.Executable
	switch {
	case exe.Name.keyed():
		addAll(e.byName, exe.Name.Exact, c)
		e.namePrefixes = addPrefixes(e.namePrefixes, exe.Name.Prefix, c)
	case exe.Path.keyed():
		addAll(e.byPath, exe.Path.Exact, c)
		e.prefixes = addPrefixes(e.prefixes, exe.Path.Prefix, c)
	case exe.Dir.onlyExact():
		addAll(e.byDir, exe.Dir.Exact, c)
	case m.Args.Any.onlyExact():
		addAll(e.byArg, m.Args.Any.Exact, c)
	default:
		return false
	}
	return true
}

func addPrefixes(entries []prefixEntry, prefixes []string, c *compiled) []prefixEntry {
	for _, p := range prefixes {
		entries = append(entries, prefixEntry{prefix: p, recipe: c})
	}
	return entries
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
// suppressed match. Match allocates nothing for an exec that matches no
// recipe's index keys, which is most of them.
func (e *Engine) Match(in *Input, dst []*Recipe) []*Recipe {
	e.stamp++
	exe := in.Process.Exe
	dst = e.check(e.byName[path.Base(exe)], in, dst)
	dst = e.check(e.byPath[exe], in, dst)
	dst = e.check(e.byDir[path.Dir(exe)], in, dst)
	for i := range e.prefixes {
		if strings.HasPrefix(exe, e.prefixes[i].prefix) {
			dst = e.checkOne(e.prefixes[i].recipe, in, dst)
		}
	}
	if len(e.namePrefixes) > 0 {
		name := path.Base(exe)
		for i := range e.namePrefixes {
			if strings.HasPrefix(name, e.namePrefixes[i].prefix) {
				dst = e.checkOne(e.namePrefixes[i].recipe, in, dst)
			}
		}
	}
	if len(e.byArg) > 0 && len(in.Process.Args) > 1 {
		for _, a := range in.Process.Args[1:] {
			dst = e.check(e.byArg[a], in, dst)
		}
	}
	return e.check(e.residual, in, dst)
}

func (e *Engine) check(cs []*compiled, in *Input, dst []*Recipe) []*Recipe {
	for _, c := range cs {
		dst = e.checkOne(c, in, dst)
	}
	return dst
}

func (e *Engine) checkOne(c *compiled, in *Input, dst []*Recipe) []*Recipe {
	if c.stamp == e.stamp {
		return dst
	}
	c.stamp = e.stamp
	if !c.Match.matches(in) {
		return dst
	}
	for i := range c.Unless {
		if c.Unless[i].matches(in) {
			return dst
		}
	}
	if !c.allow(in) {
		c.suppressed++
		return dst
	}
	return append(dst, c.Recipe)
}

// allow applies the recipe's limit to one more match.
func (c *compiled) allow(in *Input) bool {
	l := c.Limit
	if l == nil {
		return true
	}
	key := limitKey(l.Per, in)
	if c.windows == nil {
		c.windows = make(map[string]*window)
	}
	now := in.Event.Time
	w := c.windows[key]
	if w == nil || now.Sub(w.start) >= l.Window || now.Before(w.start) {
		// A new window; forget the others that have run out, so the map
		// stays as small as the set of recent keys.
		for k, old := range c.windows {
			if now.Sub(old.start) >= l.Window {
				delete(c.windows, k)
			}
		}
		w = &window{start: now}
		c.windows[key] = w
	}
	w.count++
	return w.count <= l.Count
}

func limitKey(per LimitKey, in *Input) string {
	switch per {
	case PerExecutable:
		return in.Process.Exe
	case PerParent:
		if p := in.parent(); p != nil {
			return p.Exe
		}
		return ""
	case PerAncestry:
		var b strings.Builder
		for p, n := in.Process, 0; in.Processes != nil && n < 16 && p.PPID != 0 && p.PPID != p.PID; n++ {
			if p = in.Processes.Lookup(p.PPID); p == nil {
				break
			}
			b.WriteString(p.Exe)
			b.WriteByte('\n')
		}
		return b.String()
	case PerProcess:
		return strconv.FormatUint(uint64(in.Process.PID), 10)
	}
	return ""
}

// Suppressed returns, by recipe name, how many matches limits held back.
func (e *Engine) Suppressed() map[string]uint64 {
	out := make(map[string]uint64)
	for _, c := range e.enabled {
		if c.suppressed > 0 {
			out[c.Name] = c.suppressed
		}
	}
	return out
}
