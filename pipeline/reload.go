package pipeline

// Reloads: new recipes for the execs that happen from a given time on.

import (
	"time"

	"github.com/vigil-otel/vigil/recipe"
)

// reload is a new set of recipes and when it takes effect.
type reload struct {
	engine *recipe.Engine
	since  time.Time
}

// SetRecipes replaces the recipes for the execs that happen from now on;
// those already in the ring are matched against the old ones. No event is
// lost in between. The report limits start afresh. Recipes that do not
// compile are an error, and the old ones stay.
func (p *Pipeline) SetRecipes(recipes []*recipe.Recipe) error {
	e, err := recipe.NewEngine(recipes)
	if err != nil {
		return err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.reloads = append(p.reloads, reload{engine: e, since: time.Now()})
	p.pending.Store(true)
	return nil
}

// applyReloads moves to the newest engine loaded before the exec at t.
func (p *Pipeline) applyReloads(t time.Time) {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := 0
	for n < len(p.reloads) && !t.Before(p.reloads[n].since) {
		p.retiredEvictions += p.engine.Evicted()
		p.retiredLimitEvictions += p.engine.LimitEvictions()
		p.retiredEvalErrors += p.engine.EvalErrorCount()
		p.engine = p.reloads[n].engine
		n++
	}
	p.reloads = p.reloads[n:]
	p.pending.Store(len(p.reloads) > 0)
}
