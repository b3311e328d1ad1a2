package describe

import (
	"slices"
	"strconv"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/log"

	"github.com/vigil-otel/vigil/recipe"
	"github.com/vigil-otel/vigil/recipe/attack"
	"github.com/vigil-otel/vigil/semconv"
)

// rule is what every detection of one recipe says of the recipe.
type rule struct {
	attrs        []attribute.KeyValue
	severity     log.Severity
	severityText string
}

// maxRules bounds the recipes whose description is kept: a reload brings
// new ones.
const maxRules = 1024

// describeRule builds a recipe's attributes and severity.
func describeRule(r *recipe.Recipe) rule {
	attrs := []attribute.KeyValue{
		semconv.SecurityRuleNameKey.String(r.Name),
		semconv.SecurityRuleDescriptionKey.String(r.Description),
		semconv.SecurityRuleCategoryKey.String(r.Tactic.Name),
		semconv.SecurityRuleRulesetNameKey.String(r.Ruleset),
		semconv.SecurityRuleVersionKey.String(strconv.Itoa(r.Version)),
		semconv.ThreatFrameworkKey.String(attack.Framework),
		semconv.ThreatTacticIDKey.String(r.Tactic.ID),
		semconv.ThreatTacticNameKey.String(r.Tactic.Name),
	}
	attrs = append(attrs, techniqueAttributes(r.Techniques)...)
	attrs = append(attrs, semconv.VigilRecipeImportanceKey.String(r.Importance.String()))
	if r.Reference != "" {
		attrs = append(attrs, semconv.SecurityRuleReferenceKey.String(r.Reference))
	}
	sev, text := severity(r.Importance)
	return rule{attrs: slices.Clip(attrs), severity: sev, severityText: text}
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
