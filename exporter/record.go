package exporter

import (
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"unicode/utf8"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/log"

	"github.com/vigil-otel/vigil/detection"
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

	exe := clean(d.Process.Exe)
	rec.SetBody(attribute.StringValue(fmt.Sprintf("%s: %s ran as pid %d", d.Recipe.Description, exe, d.Process.PID)))

	args := make([]string, len(d.Process.Args))
	for i, a := range d.Process.Args {
		args[i] = clean(a)
	}
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
		semconv.ProcessPIDKey.Int64(int64(d.Process.PID)),
		semconv.ProcessParentPIDKey.Int64(int64(d.Process.PPID)),
		semconv.ProcessExecutablePathKey.String(exe),
		semconv.ProcessExecutableNameKey.String(filepath.Base(exe)),
		semconv.ProcessCommandArgsKey.StringSlice(args),
		semconv.ProcessUserIDKey.Int64(int64(d.Exec.UID)),
	)
	if d.Recipe.Reference != "" {
		rec.AddAttributes(semconv.SecurityRuleReferenceKey.String(d.Recipe.Reference))
	}
	return rec
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
