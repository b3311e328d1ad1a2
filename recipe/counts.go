package recipe

// What the engine counts of its recipes as they run, for vigil's summary
// and its metrics.

// evalFailed counts an expression of c's recipe that failed at run time,
// and so did not hold, and logs the recipe's first: one broken expression
// fails on many execs, and would otherwise flood the log. The expressions
// of the recipes that supersede c are counted against their own recipe,
// checked for the same exec.
func (e *Engine) evalFailed(c *entry, err error) {
	if c.owner != nil {
		c = c.owner
	}
	c.evalErrors++
	e.evalErrors++
	if c.evalErrors == 1 {
		e.log.Warn("a recipe's expression failed at run time and did not match; its failures are counted, only this first one is logged",
			"recipe", c.name, "error", err)
	}
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

// LimitEvictions returns how many keys the report limits forgot before
// their window ran out, to keep within bounds: chances of a detection
// reported again sooner than its limit says.
func (e *Engine) LimitEvictions() uint64 {
	return e.limitEvictions
}

// EvalErrorCount returns how many times the recipes' expressions failed
// at run time.
func (e *Engine) EvalErrorCount() uint64 {
	return e.evalErrors
}

// EvalErrors returns, by recipe name, how many times its expressions
// failed at run time.
func (e *Engine) EvalErrors() map[string]uint64 {
	return e.byRecipe(func(c *entry) uint64 { return c.evalErrors })
}

// Suppressed returns, by recipe name, how many matches limits held back.
func (e *Engine) Suppressed() map[string]uint64 {
	return e.byRecipe(func(c *entry) uint64 { return c.suppressed })
}

// byRecipe returns one count of each enabled recipe, by name, leaving out
// the zeros.
func (e *Engine) byRecipe(count func(*entry) uint64) map[string]uint64 {
	out := make(map[string]uint64)
	for _, c := range e.enabled {
		if n := count(c); n > 0 {
			out[c.name] = n
		}
	}
	return out
}
