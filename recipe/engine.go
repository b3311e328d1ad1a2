package recipe

import (
	"path/filepath"
	"slices"
)

// Engine matches exec events against a compiled set of recipes. Recipes are
// indexed by what they require of the executable, so an exec is checked
// only against those that could match it.
type Engine struct {
	byBasename map[string][]*Recipe
	byPath     map[string][]*Recipe
}

// NewEngine compiles recipes into an engine.
func NewEngine(recipes []*Recipe) *Engine {
	e := &Engine{byBasename: make(map[string][]*Recipe), byPath: make(map[string][]*Recipe)}
	for _, r := range recipes {
		if exe := r.Match.Executable; len(exe.Basename) > 0 {
			for _, b := range exe.Basename {
				e.byBasename[b] = append(e.byBasename[b], r)
			}
		} else {
			for _, p := range exe.Path {
				e.byPath[p] = append(e.byPath[p], r)
			}
		}
	}
	return e
}

// Match appends to dst the recipes that the exec of exe matches, and
// returns the extended slice. It allocates nothing when none match.
func (e *Engine) Match(exe string, dst []*Recipe) []*Recipe {
	for _, r := range e.byBasename[filepath.Base(exe)] {
		if r.matches(exe) {
			dst = append(dst, r)
		}
	}
	for _, r := range e.byPath[exe] {
		if r.matches(exe) {
			dst = append(dst, r)
		}
	}
	return dst
}

func (r *Recipe) matches(exe string) bool {
	m := r.Match.Executable
	return (len(m.Basename) == 0 || slices.Contains(m.Basename, filepath.Base(exe))) &&
		(len(m.Path) == 0 || slices.Contains(m.Path, exe))
}
