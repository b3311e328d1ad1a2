package exporter

import (
	"bufio"
	"fmt"
	"io"
	"strings"
	"unicode"

	"go.opentelemetry.io/otel/attribute"

	"github.com/vigil-otel/vigil/recipe/attack"
	"github.com/vigil-otel/vigil/redact"
	"github.com/vigil-otel/vigil/semconv"
)

// consoleWriter writes one line per record for a person at a terminal:
//
//	09:13:28.123 INFO  exec_example  pid=4242 ppid=4200 uid=1000  /usr/bin/zip -q x.zip  [TA0002 Execution / T1059 Command and Scripting Interpreter]
//
// Arguments are quoted when they hold anything but plain printable text, so
// that a hostile command line cannot forge lines or move the cursor.
type consoleWriter struct {
	out io.Writer
	w   *bufio.Writer
}

func newConsole(out io.Writer) *consoleWriter {
	return &consoleWriter{out: out, w: bufio.NewWriter(out)}
}

// write writes records in order, in as few writes as the buffer allows.
func (e *consoleWriter) write(records []record) error {
	for i := range records {
		writeConsoleLine(e.w, &records[i])
	}
	if err := e.w.Flush(); err != nil {
		e.w.Reset(e.out)
		return fmt.Errorf("write console lines: %w", err)
	}
	return nil
}

func writeConsoleLine(w *bufio.Writer, r *record) {
	var attrs map[attribute.Key]attribute.Value
	for _, list := range r.attributes() {
		for _, kv := range list {
			if attrs == nil {
				attrs = make(map[attribute.Key]attribute.Value, 64)
			}
			attrs[kv.Key] = kv.Value
		}
	}
	str := func(k attribute.Key) string { return attrs[k].AsString() }
	num := func(k attribute.Key) int64 { return attrs[k].AsInt64() }

	fmt.Fprintf(w, "%s %-5s %s  pid=%d ppid=%d uid=%d ",
		r.Exec.Time.Format("15:04:05.000"), printable(r.SeverityText), redact.Quote(str(semconv.SecurityRuleNameKey)),
		num(semconv.ProcessPIDKey), num(semconv.ProcessParentPIDKey), num(semconv.ProcessUserIDKey))
	w.WriteString(redact.Quote(str(semconv.ProcessExecutablePathKey)))
	if args := attrs[semconv.ProcessCommandArgsKey].AsStringSlice(); len(args) > 1 {
		for _, a := range args[1:] {
			w.WriteByte(' ')
			w.WriteString(redact.Quote(a))
		}
	}
	if attrs[semconv.VigilProcessArgsTruncatedKey].AsBool() {
		fmt.Fprintf(w, " … (cut; %d arguments)", num(semconv.ProcessArgsCountKey))
	}
	strs := func(k attribute.Key) []string { return attrs[k].AsStringSlice() }
	fmt.Fprintf(w, "  [%s %s / %s]\n",
		printable(str(semconv.ThreatTacticIDKey)), printable(str(semconv.ThreatTacticNameKey)),
		printable(attack.Label(strs(semconv.ThreatTechniqueIDKey), strs(semconv.ThreatTechniqueNameKey),
			strs(semconv.ThreatTechniqueSubtechniqueIDKey), strs(semconv.ThreatTechniqueSubtechniqueNameKey))))
}

// printable returns s as it is when it is printable text, spaces
// included, and quoted as redact.Quote does otherwise: a recipe file
// names its techniques as it likes, and its line must still be one line
// that cannot drive the terminal.
func printable(s string) string {
	if strings.ContainsFunc(s, func(r rune) bool { return r != ' ' && !unicode.IsPrint(r) }) {
		return redact.Quote(s)
	}
	return s
}
