// Package semconv names every attribute and event that vigil emits. It
// takes the OpenTelemetry semantic conventions' keys where they exist and
// defines the rest here, once; no other package spells an attribute key.
package semconv

import (
	"go.opentelemetry.io/otel/attribute"
	otel "go.opentelemetry.io/otel/semconv/v1.43.0"
)

// SchemaURL is the semantic-conventions version vigil's keys follow.
const SchemaURL = otel.SchemaURL

// DetectionEventName is the EventName of the log record (and the name of
// the span event) that reports one recipe match.
const DetectionEventName = "vigil.detection"

// Keys of the security rule (the recipe) that matched.
const (
	SecurityRuleNameKey        = otel.SecurityRuleNameKey
	SecurityRuleDescriptionKey = otel.SecurityRuleDescriptionKey
	// SecurityRuleCategoryKey holds the recipe's ATT&CK tactic name.
	SecurityRuleCategoryKey    = otel.SecurityRuleCategoryKey
	SecurityRuleRulesetNameKey = otel.SecurityRuleRulesetNameKey
	// SecurityRuleReferenceKey holds the address of the recipe's page.
	SecurityRuleReferenceKey = otel.SecurityRuleReferenceKey
	SecurityRuleVersionKey   = otel.SecurityRuleVersionKey
)

// Keys of the process that matched.
const (
	ProcessPIDKey            = otel.ProcessPIDKey
	ProcessParentPIDKey      = otel.ProcessParentPIDKey
	ProcessExecutablePathKey = otel.ProcessExecutablePathKey
	ProcessExecutableNameKey = otel.ProcessExecutableNameKey
	ProcessCommandArgsKey    = otel.ProcessCommandArgsKey
	// ProcessUserIDKey holds the real user id after the exec.
	ProcessUserIDKey = otel.ProcessUserIDKey
)

// MITRE ATT&CK has no OpenTelemetry keys yet; vigil uses the names of the
// Elastic Common Schema's threat fields.
const (
	ThreatTacticIDKey      = attribute.Key("threat.tactic.id")
	ThreatTacticNameKey    = attribute.Key("threat.tactic.name")
	ThreatTechniqueIDKey   = attribute.Key("threat.technique.id")
	ThreatTechniqueNameKey = attribute.Key("threat.technique.name")
)

// Resource keys.
const (
	ServiceNameKey    = otel.ServiceNameKey
	ServiceVersionKey = otel.ServiceVersionKey
	HostNameKey       = otel.HostNameKey
)
