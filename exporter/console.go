package exporter

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"sync"

	"go.opentelemetry.io/otel/attribute"
	sdklog "go.opentelemetry.io/otel/sdk/log"

	"github.com/vigil-otel/vigil/recipe/attack"
	"github.com/vigil-otel/vigil/redact"
	"github.com/vigil-otel/vigil/semconv"
)

// consoleExporter writes one line per record for a person at a terminal:
//
//	09:13:28.123 INFO  exec_example  pid=4242 ppid=4200 uid=1000  /usr/bin/zip -q x.zip  [TA0002 Execution / T1059 Command and Scripting Interpreter]
//
// Arguments are quoted when they hold anything but plain printable text, so
// that a hostile command line cannot forge lines or move the cursor.
type consoleExporter struct {
	mu sync.Mutex
	w  io.Writer
}

var _ sdklog.Exporter = (*consoleExporter)(nil)

func newConsole(w io.Writer) *consoleExporter { return &consoleExporter{w: w} }

// Export writes records in order.
func (e *consoleExporter) Export(_ context.Context, records []sdklog.Record) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	bw := bufio.NewWriter(e.w)
	for i := range records {
		writeConsoleLine(bw, &records[i])
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("write console line: %w", err)
	}
	return nil
}

func writeConsoleLine(w *bufio.Writer, r *sdklog.Record) {
	attrs := make(map[attribute.Key]attribute.Value, r.AttributesLen())
	r.WalkAttributes(func(kv attribute.KeyValue) bool {
		attrs[kv.Key] = kv.Value
		return true
	})
	str := func(k attribute.Key) string { return attrs[k].AsString() }
	num := func(k attribute.Key) int64 { return attrs[k].AsInt64() }

	fmt.Fprintf(w, "%s %-5s %s  pid=%d ppid=%d uid=%d ",
		r.Timestamp().Format("15:04:05.000"), r.SeverityText(), redact.Quote(str(semconv.SecurityRuleNameKey)),
		num(semconv.ProcessPIDKey), num(semconv.ProcessParentPIDKey), num(semconv.ProcessUserIDKey))
	w.WriteString(redact.Quote(str(semconv.ProcessExecutablePathKey)))
	if args := attrs[semconv.ProcessCommandArgsKey].AsStringSlice(); len(args) > 1 {
		for _, a := range args[1:] {
			w.WriteByte(' ')
			w.WriteString(redact.Quote(a))
		}
	}
	strs := func(k attribute.Key) []string { return attrs[k].AsStringSlice() }
	fmt.Fprintf(w, "  [%s %s / %s]\n",
		str(semconv.ThreatTacticIDKey), str(semconv.ThreatTacticNameKey),
		attack.Label(strs(semconv.ThreatTechniqueIDKey), strs(semconv.ThreatTechniqueNameKey),
			strs(semconv.ThreatTechniqueSubtechniqueIDKey), strs(semconv.ThreatTechniqueSubtechniqueNameKey)))
}

// Shutdown does nothing: the writer belongs to the caller.
func (e *consoleExporter) Shutdown(context.Context) error { return nil }

// ForceFlush does nothing: every line is written at once.
func (e *consoleExporter) ForceFlush(context.Context) error { return nil }
