package exporter

import (
	"fmt"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/log"

	"github.com/vigil-otel/vigil/cicontext"
	"github.com/vigil-otel/vigil/detection"
	"github.com/vigil-otel/vigil/event"
	"github.com/vigil-otel/vigil/internal/execenv"
	"github.com/vigil-otel/vigil/proctable"
	"github.com/vigil-otel/vigil/recipe"
	"github.com/vigil-otel/vigil/recipe/attack"
	"github.com/vigil-otel/vigil/redact"
	"github.com/vigil-otel/vigil/semconv"
)

// maxString bounds every string taken from a process, which the process
// itself controls.
const maxString = 4096

// newRecord maps a detection to its log record. Timestamp is when the exec
// happened; the caller sets ObservedTimestamp.
func (e *Exporter) newRecord(d *detection.Detection) log.Record {
	var rec log.Record
	rec.SetEventName(semconv.DetectionEventName)
	rec.SetTimestamp(d.Exec.Time)
	sev, text := severity(d.Recipe.Importance)
	rec.SetSeverity(sev)
	rec.SetSeverityText(text)

	rec.SetBody(attribute.StringValue(fmt.Sprintf("%s: %s ran as pid %d", d.Recipe.Description, e.safe(d.Process.Exe), d.Process.PID)))
	rec.AddAttributes(
		semconv.SecurityRuleNameKey.String(d.Recipe.Name),
		semconv.SecurityRuleDescriptionKey.String(d.Recipe.Description),
		semconv.SecurityRuleCategoryKey.String(d.Recipe.Tactic.Name),
		semconv.SecurityRuleRulesetNameKey.String(d.Recipe.Ruleset),
		semconv.SecurityRuleVersionKey.String(strconv.Itoa(d.Recipe.Version)),
		semconv.ThreatFrameworkKey.String(attack.Framework),
		semconv.ThreatTacticIDKey.String(d.Recipe.Tactic.ID),
		semconv.ThreatTacticNameKey.String(d.Recipe.Tactic.Name),
	)
	rec.AddAttributes(techniqueAttributes(d.Recipe.Techniques)...)
	rec.AddAttributes(e.processAttributes(d.Process, d.Exec)...)
	rec.AddAttributes(semconv.VigilRecipeImportanceKey.String(d.Recipe.Importance.String()))
	if len(d.Ancestors) > 0 {
		rec.AddAttributes(semconv.VigilProcessAncestorsKey.StringSlice(e.processLines(d.Ancestors)))
	}
	if len(d.Steps) > 0 {
		steps := make([]*proctable.Process, len(d.Steps))
		for i, s := range d.Steps {
			steps[i] = &proctable.Process{PID: s.PID, Exe: s.Exe, Args: s.Args}
		}
		rec.AddAttributes(semconv.VigilSequenceStepsKey.StringSlice(e.processLines(steps)))
	}
	if d.Recipe.Reference != "" {
		rec.AddAttributes(semconv.SecurityRuleReferenceKey.String(d.Recipe.Reference))
	}
	return rec
}

// techniqueAttributes files a recipe's techniques as ECS does: the
// techniques (a sub-technique's parent) under threat.technique, the
// sub-techniques apart under threat.technique.subtechnique.
func techniqueAttributes(techniques []recipe.Technique) []attribute.KeyValue {
	var ids, names, subIDs, subNames []string
	for _, t := range techniques {
		if !slices.Contains(ids, t.ID) {
			ids = append(ids, t.ID)
			names = append(names, t.Name)
		}
		if t.Sub.ID != "" {
			subIDs = append(subIDs, t.Sub.ID)
			subNames = append(subNames, t.Sub.Name)
		}
	}
	kv := []attribute.KeyValue{
		semconv.ThreatTechniqueIDKey.StringSlice(ids),
		semconv.ThreatTechniqueNameKey.StringSlice(names),
	}
	if len(subIDs) > 0 {
		kv = append(kv,
			semconv.ThreatTechniqueSubtechniqueIDKey.StringSlice(subIDs),
			semconv.ThreatTechniqueSubtechniqueNameKey.StringSlice(subNames))
	}
	return kv
}

// maxProcessAttributes is how many attributes processAttributes gives at
// most: 11 of the process, 3 of its loader's variables and 17 of its CI
// job.
const maxProcessAttributes = 31

// Bounds of vigil.process.ancestors: how many ancestors, and the bytes of
// each one's line. A chain is for a person to read; the parent's own
// detection, if any, has its whole command line.
const (
	maxAncestors    = 16
	maxAncestorLine = 256
)

// processLines describes processes (a process's ancestors, parent first,
// or a sequence's steps): "PID COMMAND LINE" each, arguments redacted,
// quoted as the console quotes them, and cut at maxAncestorLine bytes; at
// most maxAncestors of them.
func (e *Exporter) processLines(procs []*proctable.Process) []string {
	procs = procs[:min(len(procs), maxAncestors)]
	out := make([]string, len(procs))
	var b strings.Builder
	for i, p := range procs {
		b.Reset()
		b.WriteString(strconv.FormatUint(uint64(p.PID), 10))
		args := p.Args
		if len(args) == 0 {
			args = []string{p.Exe}
		}
		// Only the arguments that can show are redacted; each one's
		// option, which may decide its redaction, comes before it.
		n, size := 0, 0
		for n < len(args) && size <= maxAncestorLine {
			size += len(args[n]) + 1
			n++
		}
		b.WriteByte(' ')
		b.WriteString(redact.QuoteArgs(e.safeArgs(p.Exe, args[:n])))
		out[i] = redact.Clean(b.String(), maxAncestorLine)
	}
	return out
}

// processAttributes describes a process at one of its execs, for its
// detections and for its span alike. Every string the process controls is
// redacted and made safe before it goes in.
func (e *Exporter) processAttributes(p *proctable.Process, ev *event.Event) []attribute.KeyValue {
	exe := e.safe(p.Exe)
	// Room for the CI job's attributes too: one allocation, not several.
	attrs := make([]attribute.KeyValue, 0, maxProcessAttributes)
	attrs = append(attrs,
		semconv.ProcessPIDKey.Int64(int64(p.PID)),
		semconv.ProcessParentPIDKey.Int64(int64(p.PPID)),
		semconv.ProcessExecutablePathKey.String(exe),
		semconv.ProcessExecutableNameKey.String(filepath.Base(exe)),
		semconv.ProcessCommandArgsKey.StringSlice(e.safeArgs(p.Exe, p.Args)),
		semconv.ProcessUserIDKey.Int64(int64(ev.EUID)),
		semconv.ProcessRealUserIDKey.Int64(int64(ev.UID)),
	)
	if ev.Cwd != "" {
		attrs = append(attrs, semconv.ProcessWorkingDirectoryKey.String(e.safe(ev.Cwd)))
	}
	if ev.ContainerID != "" {
		attrs = append(attrs, semconv.ContainerIDKey.String(ev.ContainerID))
	}
	if ev.PodUID != "" {
		attrs = append(attrs, semconv.K8SPodUIDKey.String(ev.PodUID))
	}
	attrs = append(attrs, semconv.ProcessInteractiveKey.Bool(ev.TTY != ""))
	// The dynamic loader's variables: set, even to nothing, is not unset,
	// so an empty value is exported too.
	for _, name := range execenv.LoaderNames() {
		if value, ok := ev.Env[name]; ok {
			attrs = append(attrs, semconv.ProcessEnvironmentVariable(name, e.safe(value)))
		}
	}
	// The CI job of this very process: a runner may run several at once.
	// Its variables are the job's to set: a URL may carry credentials.
	n := len(attrs)
	attrs = cicontext.AppendAttributes(attrs, ev.Env)
	for i := n; i < len(attrs); i++ {
		if attrs[i].Value.Type() == attribute.STRING {
			attrs[i].Value = attribute.StringValue(e.safe(attrs[i].Value.AsString()))
		}
	}
	return attrs
}

// severity maps a recipe's importance to the log severity that backends
// filter and colour on.
func severity(i recipe.Importance) (log.Severity, string) {
	switch i {
	case recipe.Medium:
		return log.SeverityWarn, "WARN"
	case recipe.High:
		return log.SeverityError, "ERROR"
	case recipe.Critical:
		return log.SeverityFatal, "FATAL"
	}
	return log.SeverityInfo, "INFO"
}

// safe makes a string from a process fit to leave the machine: secrets
// redacted, then valid UTF-8, control characters escaped, and at most
// maxString bytes.
func (e *Exporter) safe(s string) string {
	return redact.Clean(e.redactor.String(s), maxString)
}

// safeArgs is safe for an argument list, whose secrets may span arguments
// (--password VALUE) and depend on the program (mysql -pVALUE).
func (e *Exporter) safeArgs(exe string, args []string) []string {
	out := e.redactor.Args(exe, args)
	for i, a := range out {
		out[i] = redact.Clean(a, maxString)
	}
	return out
}
