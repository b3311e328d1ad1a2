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
	// ProcessArgsCountKey holds the exec's real argument count, which
	// exceeds the length of process.command_args when the sensor cut it.
	ProcessArgsCountKey = otel.ProcessArgsCountKey
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

// ProcessEnvironmentVariable returns the attribute of one environment
// variable of the process, process.environment_variable.<name>: name as
// the environment spells it (LD_PRELOAD), value as read at the exec.
func ProcessEnvironmentVariable(name, value string) attribute.KeyValue {
	return otel.ProcessEnvironmentVariable(name, value)
}

// ExecSpanPrefix starts the name of an exec's span, followed by the
// executable's name: "exec make".
const ExecSpanPrefix = "exec "

// RunSpanPrefix starts the name of the span of `vigil run -- CMD`,
// followed by the command's name: "vigil run make".
const RunSpanPrefix = "vigil run "

// VigilProcessDetectionsKey holds, on an exec's span, the number of
// detections of the process and of its descendants.
const VigilProcessDetectionsKey = attribute.Key("vigil.process.detections")

// VigilSpanEndKey holds, on an exec's span, what ended it: one of the
// SpanEnd values.
const VigilSpanEndKey = attribute.Key("vigil.span.end")

// The values of VigilSpanEndKey.
const (
	SpanEndExit      = "exit"
	SpanEndExec      = "exec"
	SpanEndForgotten = "forgotten"
	SpanEndStop      = "stop"
)

// VigilProcessArgsTruncatedKey is true on an exec whose command line the
// sensor cut at its bounds; it is left out otherwise.
const VigilProcessArgsTruncatedKey = attribute.Key("vigil.process.args_truncated")

// VigilProcessAncestorsKey holds, on a detection, the process's ancestors,
// its parent first: "PID COMMAND LINE" each, redacted and bounded.
const VigilProcessAncestorsKey = attribute.Key("vigil.process.ancestors")

// VigilSequenceStepsKey holds, on a sequence recipe's detection, the execs
// of its earlier steps, oldest first, as VigilProcessAncestorsKey
// describes processes.
const VigilSequenceStepsKey = attribute.Key("vigil.sequence.steps")

// MITRE ATT&CK has no OpenTelemetry keys yet; vigil uses the names of the
// Elastic Common Schema's threat fields.
// Techniques and sub-techniques are string slices: a recipe may name
// several.
const (
	ThreatFrameworkKey                 = attribute.Key("threat.framework")
	ThreatTacticIDKey                  = attribute.Key("threat.tactic.id")
	ThreatTacticNameKey                = attribute.Key("threat.tactic.name")
	ThreatTechniqueIDKey               = attribute.Key("threat.technique.id")
	ThreatTechniqueNameKey             = attribute.Key("threat.technique.name")
	ThreatTechniqueSubtechniqueIDKey   = attribute.Key("threat.technique.subtechnique.id")
	ThreatTechniqueSubtechniqueNameKey = attribute.Key("threat.technique.subtechnique.name")
)

// Resource keys.
const (
	ServiceNameKey    = otel.ServiceNameKey
	ServiceVersionKey = otel.ServiceVersionKey
	HostNameKey       = otel.HostNameKey
)

// Names of vigil's own metrics.
const (
	// MetricEvents counts the events the sensor delivered ({event}).
	MetricEvents = "vigil.sensor.events"
	// MetricExecs counts the execs seen ({exec}): their rate is the
	// machine's exec rate.
	MetricExecs = "vigil.sensor.execs"
	// MetricLost counts events and detections lost, by VigilLossStageKey
	// ({event}).
	MetricLost = "vigil.lost"
	// MetricDetections counts detections, by SecurityRuleNameKey and
	// VigilRecipeImportanceKey ({detection}).
	MetricDetections = "vigil.detections"
	// MetricRingBufferPending is the kernel-to-vigil queue's depth (By).
	MetricRingBufferPending = "vigil.sensor.ring_buffer.pending"
	// MetricProcesses is the size of the process table ({process}).
	MetricProcesses = "vigil.process_table.processes"
	// MetricEvictions counts processes the full table forgot ({process}).
	MetricEvictions = "vigil.process_table.evictions"
	// MetricSequenceEvictions counts the sequences begun that sequence
	// recipes forgot to stay within their bounds ({sequence}).
	MetricSequenceEvictions = "vigil.recipe.sequence.evictions"
	// MetricLimitEvictions counts the keys that recipes' report limits
	// forgot before their window ran out, to stay within their bounds
	// ({key}).
	MetricLimitEvictions = "vigil.recipe.limit.evictions"
	// MetricEvalErrors counts the evaluations of recipes' expressions
	// that failed at run time, and so did not match ({evaluation}).
	MetricEvalErrors = "vigil.recipe.evaluation.errors"
	// MetricBadTraceparents counts execs whose TRACEPARENT was not valid
	// ({exec}).
	MetricBadTraceparents = "vigil.trace_context.invalid"
	// MetricExportQueued is the detections and spans kept in memory for
	// the OTLP receiver ({item}).
	MetricExportQueued = "vigil.export.queued"
	// MetricExportSpooled is the detections and spans kept on disk for
	// the OTLP receiver ({item}).
	MetricExportSpooled = "vigil.export.spooled"
	// MetricExportSpoolSize is what the spool takes on disk (By).
	MetricExportSpoolSize = "vigil.export.spool.size"
	// MetricExportOldest is how long the oldest detection or span kept
	// for the receiver has waited (s).
	MetricExportOldest = "vigil.export.oldest"
)

// Attributes of vigil's own metrics.
const (
	// VigilLossStageKey says where events were lost: ring_buffer (full),
	// filter (the followed-process map full), scratch (the per-CPU buffer
	// busy), decode (an undecodable record) or export (a detection not
	// delivered).
	VigilLossStageKey = attribute.Key("vigil.loss.stage")
	// VigilRecipeImportanceKey holds a recipe's importance: low, medium,
	// high or critical.
	VigilRecipeImportanceKey = attribute.Key("vigil.recipe.importance")
)
