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
	// ProcessUserIDKey holds the effective user id after the exec.
	ProcessUserIDKey = otel.ProcessUserIDKey
	// ProcessRealUserIDKey holds the real user id after the exec.
	ProcessRealUserIDKey       = otel.ProcessRealUserIDKey
	ProcessWorkingDirectoryKey = otel.ProcessWorkingDirectoryKey
	// ProcessInteractiveKey says the process has a controlling terminal.
	ProcessInteractiveKey = otel.ProcessInteractiveKey
	// ProcessExitCodeKey holds the exit code, or 128 + the signal that
	// killed the process, as a shell reports it.
	ProcessExitCodeKey = otel.ProcessExitCodeKey
)

// ExecSpanPrefix starts the name of an exec's span, followed by the
// executable's name: "exec make".
const ExecSpanPrefix = "exec "

// RunSpanPrefix starts the name of the span of `vigil run -- CMD`,
// followed by the command's name: "vigil run make".
const RunSpanPrefix = "vigil run "

// VigilProcessDetectionsKey holds, on an exec's span, the number of
// detections of the process and of its descendants.
const VigilProcessDetectionsKey = attribute.Key("vigil.process.detections")

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
