package describe

import (
	"cmp"
	"maps"

	"github.com/vigil-otel/vigil/event"
	"github.com/vigil-otel/vigil/internal/execenv"
)

// Event returns ev as the recording (vigil run --record) keeps it: every
// string its process controls redacted (the arguments, the paths, the
// environment's values) but the trace context, which holds only the ids
// every output carries and which a replay needs whole. Strings are not
// made safe nor bounded: the recording is JSON, which escapes them, and a
// replay should match what the sensor saw. ev is left as it is; the copy
// shares with it what needs no change.
func (d *Describer) Event(ev *event.Event) *event.Event {
	if ev.Kind != event.KindExec {
		return ev // a fork's or an exit's holds no string
	}
	out := *ev
	r := d.redactor
	out.Args = r.Args(cmp.Or(ev.ExePath, ev.Filename), ev.Args)
	for _, s := range []*string{&out.Comm, &out.Filename, &out.ExePath, &out.Interpreter, &out.Script, &out.LoaderTarget, &out.Cwd, &out.CgroupPath} {
		if *s != "" {
			*s = r.String(*s)
		}
	}
	copied := false
	for k, v := range ev.Env {
		if traceContext(k) {
			continue
		}
		if red := r.String(v); red != v {
			if !copied {
				out.Env, copied = maps.Clone(ev.Env), true
			}
			out.Env[k] = red
		}
	}
	return &out
}

// traceContext says the variable name carries a W3C trace context, which
// outputs export as it is (trace and span ids, trace state).
func traceContext(name string) bool {
	return name == execenv.TraceParent || name == execenv.TraceState || name == execenv.BuildkiteTraceParent
}
