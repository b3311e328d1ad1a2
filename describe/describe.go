// Package describe turns what vigil's stages know of an exec (the event,
// the process table's entry, the recipes that matched) into what it
// reports: a [detection.Exec] once per exec, shared by the exec's span and
// its detections, and a [detection.Record] per detection, redacting and
// making safe every string that processes control before it leaves the
// machine.
package describe

import (
	"fmt"
	"path/filepath"
	"strconv"
	"strings"

	"go.opentelemetry.io/otel/attribute"

	"github.com/vigil-otel/vigil/detection"
	"github.com/vigil-otel/vigil/event"
	"github.com/vigil-otel/vigil/internal/execenv"
	"github.com/vigil-otel/vigil/proctable"
	"github.com/vigil-otel/vigil/recipe"
	"github.com/vigil-otel/vigil/redact"
	"github.com/vigil-otel/vigil/semconv"
)

// maxString bounds every string taken from a process, which the process
// itself controls.
const maxString = 4096

// Bounds of vigil.process.ancestors: how many ancestors, and the bytes of
// each one's line. A chain is for a person to read; the parent's own
// detection, if any, has its whole command line.
const (
	maxAncestors    = 16
	maxAncestorLine = 256
)

// fixedAttributes is how many attributes every Exec has: those of its
// process that are never left out.
const fixedAttributes = 9

// Describer describes execs and detections. Exec and Detection are not
// safe for concurrent use (the goroutine that handles events calls them);
// Run is, from any goroutine: it keeps nothing.
type Describer struct {
	redactor *redact.Redactor
	rules    bounded[*recipe.Recipe, rule]
	jobs     jobCache
	lines    bounded[lineKey, string]
	// programs and dirs keep what executables and working directories
	// become, made safe: a machine runs the same few from the same few.
	programs bounded[string, program]
	dirs     bounded[string, string]
}

// program is an executable's path made safe, its name, and the name of
// the spans of its execs.
type program struct{ exe, name, spanName string }

// Bounds of the programs and dirs kept, and of the length of a path that
// is kept: a longer one is made safe each time.
const (
	maxPaths    = 1024
	maxKeptPath = 256
)

// New returns a Describer that redacts with r; nil redacts with
// redact.Default().
func New(r *redact.Redactor) (*Describer, error) {
	if r == nil {
		var err error
		if r, err = redact.New(redact.Default()); err != nil {
			return nil, fmt.Errorf("default redaction rules: %w", err)
		}
	}
	return &Describer{
		redactor: r,
		rules:    newBounded[*recipe.Recipe, rule](maxRules),
		jobs:     newJobCache(),
		lines:    newBounded[lineKey, string](maxLines),
		programs: newBounded[string, program](maxPaths),
		dirs:     newBounded[string, string](maxPaths),
	}, nil
}

// Exec describes process p at its exec ev. Every string p controls is
// redacted and made safe before it goes in.
func (d *Describer) Exec(p *proctable.Process, ev *event.Event) *detection.Exec {
	prog := d.program(p.Exe)
	// The CI job of this very process: a runner may run several at once.
	// Its variables are the job's to set: a URL may carry credentials.
	job := d.jobs.job(ev.Env, d.redactor)
	// One allocation of the exact size, with room for the span's own.
	n := fixedAttributes
	for _, v := range []string{ev.Cwd, ev.ContainerID, ev.PodUID} {
		if v != "" {
			n++
		}
	}
	if ev.ArgsTruncated {
		n++
	}
	loader := execenv.LoaderNames()
	for _, v := range loader {
		if _, ok := ev.Env[v]; ok {
			n++
		}
	}
	attrs := make([]attribute.KeyValue, 0, n+detection.SpanRoom)
	attrs = append(attrs,
		semconv.ProcessPIDKey.Int64(int64(p.PID)),
		semconv.ProcessParentPIDKey.Int64(int64(p.PPID)),
		semconv.ProcessExecutablePathKey.String(prog.exe),
		semconv.ProcessExecutableNameKey.String(prog.name),
		semconv.ProcessCommandArgsKey.StringSlice(d.safeArgs(p.Exe, p.Args)),
		// The kernel's count, which a cut command line falls short of; a
		// recording from before the count was kept has the arguments alone.
		semconv.ProcessArgsCountKey.Int64(max(int64(ev.Argc), int64(len(p.Args)))),
		semconv.ProcessUserIDKey.Int64(int64(ev.EUID)),
		semconv.ProcessRealUserIDKey.Int64(int64(ev.UID)),
		semconv.ProcessInteractiveKey.Bool(ev.TTY != ""),
	)
	if ev.ArgsTruncated {
		attrs = append(attrs, semconv.VigilProcessArgsTruncatedKey.Bool(true))
	}
	if ev.Cwd != "" {
		attrs = append(attrs, semconv.ProcessWorkingDirectoryKey.String(d.dir(ev.Cwd)))
	}
	if ev.ContainerID != "" {
		attrs = append(attrs, semconv.ContainerIDKey.String(ev.ContainerID))
	}
	if ev.PodUID != "" {
		attrs = append(attrs, semconv.K8SPodUIDKey.String(ev.PodUID))
	}
	// The dynamic loader's variables: set, even to nothing, is not unset,
	// so an empty value is exported too.
	for _, v := range loader {
		if value, ok := ev.Env[v]; ok {
			attrs = append(attrs, semconv.ProcessEnvironmentVariable(v, d.safe(value)))
		}
	}
	return &detection.Exec{SpanName: prog.spanName, Executable: prog.exe, Time: ev.Time, Attributes: attrs, Job: job}
}

// program describes the executable at path.
func (d *Describer) program(path string) program {
	describe := func() program {
		exe := d.safe(path)
		name := filepath.Base(exe)
		return program{exe: exe, name: name, spanName: semconv.ExecSpanPrefix + name}
	}
	if len(path) > maxKeptPath {
		return describe()
	}
	return d.programs.get(path, describe)
}

// dir makes the working directory dir safe.
func (d *Describer) dir(dir string) string {
	if len(dir) > maxKeptPath {
		return d.safe(dir)
	}
	return d.dirs.get(dir, func() string { return d.safe(dir) })
}

// Detection describes hit, a recipe that matched ex, the exec of p;
// ancestors are p's, its parent first, as far as the detection's chain
// goes.
func (d *Describer) Detection(hit recipe.Hit, p *proctable.Process, ex *detection.Exec, ancestors []*proctable.Process) detection.Record {
	r := hit.Recipe
	rule := d.rules.get(r, func() rule { return describeRule(r) })
	rec := detection.Record{
		Exec:         ex,
		Severity:     rule.severity,
		SeverityText: rule.severityText,
		Body:         r.Description + ": " + ex.Executable + " ran as pid " + strconv.FormatUint(uint64(p.PID), 10),
		Rule:         rule.attrs,
	}
	if len(ancestors) > 0 {
		rec.Context = append(rec.Context, semconv.VigilProcessAncestorsKey.StringSlice(d.processLines(ancestors, true)))
	}
	if len(hit.Steps) > 0 {
		steps := make([]*proctable.Process, len(hit.Steps))
		for i, s := range hit.Steps {
			steps[i] = &proctable.Process{PID: s.PID, Exe: s.Exe, Args: s.Args}
		}
		rec.Context = append(rec.Context, semconv.VigilSequenceStepsKey.StringSlice(d.processLines(steps, false)))
	}
	return rec
}

// Run describes `vigil run -- COMMAND`: its span's name and attributes.
func (d *Describer) Run(command []string) (string, []attribute.KeyValue) {
	return semconv.RunSpanPrefix + filepath.Base(d.safe(command[0])),
		[]attribute.KeyValue{semconv.ProcessCommandArgsKey.StringSlice(d.safeArgs(command[0], command))}
}

// processLines describes processes (a process's ancestors, parent first,
// or a sequence's steps): "PID COMMAND LINE" each, arguments redacted,
// quoted as the console quotes them, and cut at maxAncestorLine bytes; at
// most maxAncestors of them. Ancestors' lines are kept: the ancestors of
// one process's detections, and of its siblings', are the same.
func (d *Describer) processLines(procs []*proctable.Process, keep bool) []string {
	procs = procs[:min(len(procs), maxAncestors)]
	out := make([]string, len(procs))
	for i, p := range procs {
		if !keep {
			out[i] = d.processLine(p)
			continue
		}
		out[i] = d.lines.get(lineKey{p, p.Exec}, func() string { return d.processLine(p) })
	}
	return out
}

// processLine describes one process for processLines.
func (d *Describer) processLine(p *proctable.Process) string {
	var b strings.Builder
	b.WriteString(strconv.FormatUint(uint64(p.PID), 10))
	args := p.Args
	if len(args) == 0 {
		args = []string{p.Exe}
	}
	// Only the arguments that can show are redacted; each one's option,
	// which may decide its redaction, comes before it.
	n, size := 0, 0
	for n < len(args) && size <= maxAncestorLine {
		size += len(args[n]) + 1
		n++
	}
	b.WriteByte(' ')
	b.WriteString(redact.QuoteArgs(d.safeArgs(p.Exe, args[:n])))
	return redact.Clean(b.String(), maxAncestorLine)
}

// safe makes a string from a process fit to leave the machine: secrets
// redacted, then valid UTF-8, control characters escaped, and at most
// maxString bytes.
func (d *Describer) safe(s string) string {
	return redact.Clean(d.redactor.String(s), maxString)
}

// safeArgs is safe for an argument list, whose secrets may span arguments
// (--password VALUE) and depend on the program (mysql -pVALUE).
func (d *Describer) safeArgs(exe string, args []string) []string {
	out := d.redactor.Args(exe, args)
	for i, a := range out {
		out[i] = redact.Clean(a, maxString)
	}
	return out
}
