package pipeline

import (
	"github.com/vigil-otel/vigil/describe"
	"github.com/vigil-otel/vigil/detection"
	"github.com/vigil-otel/vigil/event"
	"github.com/vigil-otel/vigil/proctable"
)

// execDescriber describes the exec being handled once, however many of
// its span and its detections ask; the execs of ancestors whose spans
// start late are described as they are asked for.
type execDescriber struct {
	*describe.Describer
	current *event.Event
	exec    *detection.Exec
}

// begin starts the handling of the exec ev.
func (d *execDescriber) begin(ev *event.Event) {
	d.current, d.exec = ev, nil
}

// Exec describes p at its exec ev.
func (d *execDescriber) Exec(p *proctable.Process, ev *event.Event) *detection.Exec {
	if ev != d.current {
		return d.Describer.Exec(p, ev)
	}
	if d.exec == nil {
		d.exec = d.Describer.Exec(p, ev)
	}
	return d.exec
}
