package exporter

import (
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"unicode/utf8"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/log"

	"github.com/vigil-otel/vigil/cicontext"
	"github.com/vigil-otel/vigil/detection"
	"github.com/vigil-otel/vigil/event"
	"github.com/vigil-otel/vigil/proctable"
	"github.com/vigil-otel/vigil/recipe"
	"github.com/vigil-otel/vigil/semconv"
)

// maxString bounds every string taken from a process, which the process
// itself controls.
const maxString = 4096

// newRecord maps a detection to its log record. Timestamp is when the exec
// happened; the caller sets ObservedTimestamp.
func newRecord(d *detection.Detection) log.Record {
	var rec log.Record
	rec.SetEventName(semconv.DetectionEventName)
	rec.SetTimestamp(d.Exec.Time)
	sev, text := severity(d.Recipe.Importance)
	rec.SetSeverity(sev)
	rec.SetSeverityText(text)

	rec.SetBody(attribute.StringValue(fmt.Sprintf("%s: %s ran as pid %d", d.Recipe.Description, clean(d.Process.Exe), d.Process.PID)))
	rec.AddAttributes(
		semconv.SecurityRuleNameKey.String(d.Recipe.Name),
		semconv.SecurityRuleDescriptionKey.String(d.Recipe.Description),
		semconv.SecurityRuleCategoryKey.String(d.Recipe.Tactic.Name),
		semconv.SecurityRuleRulesetNameKey.String(d.Recipe.Ruleset),
		semconv.SecurityRuleVersionKey.String(strconv.Itoa(d.Recipe.Version)),
		semconv.ThreatTacticIDKey.String(d.Recipe.Tactic.ID),
		semconv.ThreatTacticNameKey.String(d.Recipe.Tactic.Name),
		semconv.ThreatTechniqueIDKey.String(d.Recipe.Technique.ID),
		semconv.ThreatTechniqueNameKey.String(d.Recipe.Technique.Name),
	)
	rec.AddAttributes(processAttributes(d.Process, d.Exec)...)
	if d.Recipe.Reference != "" {
		rec.AddAttributes(semconv.SecurityRuleReferenceKey.String(d.Recipe.Reference))
	}
	return rec
}

// processAttributes describes a process at one of its execs, for its
// detections and for its span alike.
func processAttributes(p *proctable.Process, ev *event.Event) []attribute.KeyValue {
	exe := clean(p.Exe)
	attrs := []attribute.KeyValue{
		semconv.ProcessPIDKey.Int64(int64(p.PID)),
		semconv.ProcessParentPIDKey.Int64(int64(p.PPID)),
		semconv.ProcessExecutablePathKey.String(exe),
		semconv.ProcessExecutableNameKey.String(filepath.Base(exe)),
		semconv.ProcessCommandArgsKey.StringSlice(cleanAll(p.Args)),
		semconv.ProcessUserIDKey.Int64(int64(ev.EUID)),
		semconv.ProcessRealUserIDKey.Int64(int64(ev.UID)),
	}
	if ev.Cwd != "" {
		attrs = append(attrs, semconv.ProcessWorkingDirectoryKey.String(clean(ev.Cwd)))
	}
	if ev.ContainerID != "" {
		attrs = append(attrs, semconv.ContainerIDKey.String(ev.ContainerID))
	}
	attrs = append(attrs, semconv.ProcessInteractiveKey.Bool(ev.TTY != ""))
	// The CI job of this very process: a runner may run several at once.
	return cicontext.AppendAttributes(attrs, ev.Env)
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

// clean makes a string from a process safe to export: valid UTF-8 and at
// most maxString bytes, cut on a character boundary.
func clean(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	if len(s) <= maxString {
		return s
	}
	cut := maxString
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

// cleanAll cleans each of a list of strings.
func cleanAll(list []string) []string {
	out := make([]string, len(list))
	for i, s := range list {
		out[i] = clean(s)
	}
	return out
}
