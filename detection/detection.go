// Package detection holds what vigil reports, in OpenTelemetry's terms: a
// process at one of its execs ([Exec], which its span and every detection
// of that exec share) and the record of one detection ([Record]). Package
// describe builds them from what the stages know; package exporter sends
// them. Neither type refers to a stage, so the exporter depends on none.
//
// Every string in them is fit to leave the machine: redacted, valid UTF-8,
// control characters escaped, bounded. Their attribute slices are shared
// and read-only.
package detection

import (
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/log"
)

// Exec is a process at one of its execs, described once for its span and
// for each detection of the exec.
type Exec struct {
	// SpanName names the exec's span.
	SpanName string
	// Executable is the program's path, made safe, as the attributes
	// give it: detections name it in their body.
	Executable string
	// Time is when the exec happened.
	Time time.Time
	// Attributes describe the process: process.*, container.id,
	// k8s.pod.uid, the loader's variables. Past their length they have
	// room for SpanRoom more: the exec's span, and it alone, appends its
	// own there when it ends rather than copying them all.
	Attributes []attribute.KeyValue
	// Job describes the CI job the process runs in (cicd.*, vcs.*), nil
	// outside CI; it follows Attributes. Every exec of a job shares one
	// slice.
	Job []attribute.KeyValue
}

// SpanRoom is the room an Exec's attributes keep for its span's: why it
// ended, its detections, its exit code.
const SpanRoom = 3

// Record is one detection: one recipe matched by one exec.
type Record struct {
	// Exec is the exec that matched; its attributes, then its job's,
	// follow Rule's in the record.
	Exec *Exec
	// Severity and SeverityText follow the recipe's importance.
	Severity     log.Severity
	SeverityText string
	// Body is the line a person reads first.
	Body string
	// Rule describes the recipe: security_rule.*, threat.*, its
	// importance. Every detection of a recipe shares one slice.
	Rule []attribute.KeyValue
	// Context describes this detection's own surroundings: the process's
	// ancestors, a sequence's earlier steps. Nil when there are none.
	Context []attribute.KeyValue
}
