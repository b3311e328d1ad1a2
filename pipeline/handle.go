package pipeline

// The handling of each event, on the reader goroutine: the process table,
// the spans, the recipes, and a record for each detection.

import (
	"context"
	"slices"

	"github.com/vigil-otel/vigil/event"
	"github.com/vigil-otel/vigil/proctable"
	"github.com/vigil-otel/vigil/recipe"
)

// handle takes one event through the process table and the recipes.
func (p *Pipeline) handle(ev *event.Event) {
	if p.recording != nil {
		p.record(ev)
	}
	proc := p.table.Apply(ev)
	p.tableSize.Store(int64(p.table.Len()))
	p.tableEvictions.Store(int64(p.table.Evictions()))
	switch ev.Kind {
	case event.KindExit:
		p.spans.Exit(proc, ev.Time)
		return
	case event.KindExec:
	default:
		return
	}
	p.execs.Add(1)
	p.badTraceparents.Store(int64(p.table.BadTraceparents()))
	p.describe.begin(ev)
	p.spans.Exec(proc, ev)
	if p.pending.Load() {
		p.applyReloads(ev.Time)
	}
	p.matches = p.engine.Match(&recipe.Input{Event: ev, Process: proc, Processes: p.table}, p.matches[:0])
	p.sequenceEvictions.Store(int64(p.retiredEvictions + p.engine.Evicted()))
	p.limitEvictions.Store(int64(p.retiredLimitEvictions + p.engine.LimitEvictions()))
	p.evalErrors.Store(int64(p.retiredEvalErrors + p.engine.EvalErrorCount()))
	if len(p.matches) == 0 {
		return
	}
	ancestors := p.table.Ancestry(proc, maxAncestry)
	p.spans.Detected(proc, ancestors, len(p.matches))
	ctx := p.spans.Context(context.Background(), proc)
	chain := ancestors
	if i := slices.IndexFunc(ancestors, func(a *proctable.Process) bool { return a.PID == p.follow }); p.follow != 0 && i >= 0 {
		chain = ancestors[:i]
	}
	ex := p.describe.Exec(proc, ev)
	for _, hit := range p.matches {
		r := hit.Recipe
		rec := p.describe.Detection(hit, proc, ex, chain)
		if err := p.exporter.Emit(ctx, &rec); err != nil {
			p.emitErrors.Add(1)
			continue
		}
		p.detections.Add(1)
		p.byRecipe[r.Name]++
		p.byImportance[r.Importance]++
		if p.detectionCount != nil {
			p.countDetection(r)
		}
	}
}

// maxAncestry bounds how far up a detection is counted in spans, and
// described.
const maxAncestry = 64
