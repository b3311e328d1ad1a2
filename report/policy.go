package report

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/vigil-otel/vigil/recipe"
)

// The verdict of --fail-on: which detections, at or above an importance,
// decide that the run fails.

// Policy is the verdict of --fail-on: the detections at or above FailOn,
// by recipe. Violated says there was at least one; whether that fails the
// run is the caller's to say (a command's own failure wins).
type Policy struct {
	FailOn    recipe.Importance `json:"fail_on"`
	Violated  bool              `json:"violated"`
	DecidedBy []RecipeCount     `json:"decided_by,omitempty"`
}

// Apply sets the verdict of --fail-on least.
func (r *Report) Apply(least recipe.Importance) *Policy {
	r.mu.Lock()
	defer r.mu.Unlock()
	p := &Policy{FailOn: least}
	for _, c := range r.sortedRecipes() {
		if c.Importance >= least {
			p.DecidedBy = append(p.DecidedBy, c)
		}
	}
	p.Violated = len(p.DecidedBy) > 0
	r.Policy = p
	return p
}

// String says the verdict and what decided it: "--fail-on high: 3
// detection(s) at high or above: a 1, b 2", the recipes by name.
func (p *Policy) String() string {
	var n uint64
	counts := make(map[string]uint64)
	for _, c := range p.DecidedBy {
		n += c.Count
		counts[c.Recipe] += c.Count
	}
	if n == 0 {
		return fmt.Sprintf("--fail-on %s: nothing at %s or above", p.FailOn, p.FailOn)
	}
	names := slices.Sorted(maps.Keys(counts))
	for i, name := range names {
		names[i] = fmt.Sprintf("%s %d", name, counts[name])
	}
	return fmt.Sprintf("--fail-on %s: %d detection(s) at %s or above: %s", p.FailOn, n, p.FailOn, strings.Join(names, ", "))
}
