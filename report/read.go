package report

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"go.opentelemetry.io/otel/attribute"

	"github.com/vigil-otel/vigil/recipe"
	"github.com/vigil-otel/vigil/recipe/attack"
	"github.com/vigil-otel/vigil/semconv"
)

// maxLine bounds one JSON line: a detection is a few KiB, a recorded event
// with the longest command line vigil keeps under 1 MiB.
const maxLine = 4 << 20

// ErrRecording is returned by Read for a recording (vigil run --record):
// its events must go through the recipes before there is anything to
// report.
var ErrRecording = errors.New("a recording of events, not detections")

// Lines returns a writer that takes vigil's JSON lines, as the exporter
// writes them, and adds each detection to r. It is what a running vigil
// hands its detections to.
func (r *Report) Lines() io.Writer { return &lineWriter{r: r} }

// lineWriter adds the detections of the JSON lines written to it, which
// may come a line at a time or in pieces.
type lineWriter struct {
	mu      sync.Mutex
	r       *Report
	partial []byte
}

func (w *lineWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	data := p
	if len(w.partial) > 0 {
		data = append(w.partial, p...)
	}
	var errs []error
	for {
		i := bytes.IndexByte(data, '\n')
		if i < 0 {
			break
		}
		if line := bytes.TrimSpace(data[:i]); len(line) > 0 {
			if err := w.r.addLine(line); err != nil {
				errs = append(errs, err)
			}
		}
		data = data[i+1:]
	}
	w.partial = append(w.partial[:0], data...)
	if len(w.partial) > maxLine {
		w.partial = w.partial[:0]
		errs = append(errs, fmt.Errorf("a JSON line longer than %d bytes", maxLine))
	}
	return len(p), errors.Join(errs...)
}

// Read reads a report from r: a JSON report (--report json), or vigil's
// JSON lines of detections (--jsonl). For a recording it returns
// ErrRecording. Lines that are not detections are skipped; a line that is
// not JSON is an error naming it.
func Read(r io.Reader) (*Report, error) {
	br := bufio.NewReaderSize(r, maxLine)
	first, err := firstValue(br)
	if err != nil {
		return nil, err
	}
	switch {
	case first == nil:
		return New(0), nil
	case first["vigil_report"] != nil:
		rep := New(0)
		dec := json.NewDecoder(br)
		if err := dec.Decode(rep); err != nil {
			return nil, fmt.Errorf("JSON report: %w", err)
		}
		if rep.Format != FormatVersion {
			return nil, fmt.Errorf("JSON report of format %d; this vigil reads format %d", rep.Format, FormatVersion)
		}
		rep.limit = max(len(rep.Detections), DefaultMaxDetections)
		return rep, nil
	case first["kind"] != nil && first["event_name"] == nil:
		return nil, ErrRecording
	}
	rep := New(0)
	sc := bufio.NewScanner(br)
	sc.Buffer(make([]byte, 0, 64<<10), maxLine)
	for line := 1; sc.Scan(); line++ {
		if b := bytes.TrimSpace(sc.Bytes()); len(b) > 0 {
			if err := rep.addLine(b); err != nil {
				return nil, fmt.Errorf("line %d: %w", line, err)
			}
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read JSON lines: %w", err)
	}
	return rep, nil
}

// firstValue peeks at the first JSON object of br without consuming it:
// a line of JSON lines, or the start of a JSON report, which tells itself
// by its first key. It returns nil for an empty input.
func firstValue(br *bufio.Reader) (map[string]json.RawMessage, error) {
	peek, err := br.Peek(br.Size())
	if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, bufio.ErrBufferFull) {
		return nil, fmt.Errorf("read: %w", err)
	}
	peek = bytes.TrimSpace(peek)
	if len(peek) == 0 {
		return nil, nil
	}
	var first map[string]json.RawMessage
	decErr := json.NewDecoder(bytes.NewReader(peek)).Decode(&first)
	if decErr == nil {
		line, _, _ := bytes.Cut(peek, []byte("\n"))
		if first["vigil_report"] == nil && !json.Valid(line) {
			return nil, errors.New("not a vigil JSON report (no vigil_report field), nor JSON lines, nor a recording")
		}
		return first, nil
	}
	if key, _, _ := bytes.Cut(bytes.TrimSpace(bytes.TrimPrefix(peek, []byte("{"))), []byte(":")); string(bytes.TrimSpace(key)) == `"vigil_report"` {
		return map[string]json.RawMessage{"vigil_report": json.RawMessage("1")}, nil
	}
	return nil, fmt.Errorf("not a vigil JSON report, JSON lines or recording: %w", decErr)
}

// addLine adds the detection one JSON line holds; other records (none
// today) are skipped.
func (r *Report) addLine(line []byte) error {
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(line, &obj); err != nil {
		return fmt.Errorf("not JSON: %w", err)
	}
	raw, ok := obj["event_name"]
	if !ok {
		return errors.New("not a detection of vigil's JSON lines: no event_name")
	}
	var name string
	if err := json.Unmarshal(raw, &name); err != nil {
		return fmt.Errorf("field event_name: %w", err)
	}
	if name != semconv.DetectionEventName {
		return nil
	}
	d, err := detectionOf(obj)
	if err != nil {
		return err
	}
	r.Add(d)
	return nil
}

// detectionOf reads a detection from its flat JSON object: the record's
// fields, and its attributes under their keys.
func detectionOf(obj map[string]json.RawMessage) (Detection, error) {
	f := fields{obj: obj}
	d := Detection{
		Recipe:      f.str(string(semconv.SecurityRuleNameKey)),
		Description: f.str(string(semconv.SecurityRuleDescriptionKey)),
		Reference:   f.str(string(semconv.SecurityRuleReferenceKey)),
		Tactic:      join(f.str(string(semconv.ThreatTacticIDKey)), f.str(string(semconv.ThreatTacticNameKey))),
		Technique: attack.Label(f.strs(semconv.ThreatTechniqueIDKey), f.strs(semconv.ThreatTechniqueNameKey),
			f.strs(semconv.ThreatTechniqueSubtechniqueIDKey), f.strs(semconv.ThreatTechniqueSubtechniqueNameKey)),
		PID:           f.int(semconv.ProcessPIDKey),
		PPID:          f.int(semconv.ProcessParentPIDKey),
		Executable:    f.str(string(semconv.ProcessExecutablePathKey)),
		Args:          f.strs(semconv.ProcessCommandArgsKey),
		ArgsCount:     f.int(semconv.ProcessArgsCountKey),
		ArgsTruncated: f.bool(semconv.VigilProcessArgsTruncatedKey),
		UserID:        f.int(semconv.ProcessUserIDKey),
		Cwd:           f.str(string(semconv.ProcessWorkingDirectoryKey)),
		ContainerID:   f.str(string(semconv.ContainerIDKey)),
		Ancestors:     f.strs(semconv.VigilProcessAncestorsKey),
		Steps:         f.strs(semconv.VigilSequenceStepsKey),
		Pipeline:      f.str(string(semconv.CICDPipelineNameKey)),
		RunURL:        f.str(string(semconv.CICDPipelineRunURLFullKey)),
		Job:           f.str(string(semconv.CICDPipelineTaskNameKey)),
		Step:          f.str(string(semconv.CIStepKey)),
		TraceID:       f.str("trace_id"),
		SpanID:        f.str("span_id"),
	}
	if t := f.str("time"); t != "" {
		var err error
		if d.Time, err = time.Parse(time.RFC3339Nano, t); err != nil {
			return d, fmt.Errorf("field time: %w", err)
		}
	}
	imp, err := importanceOf(&f)
	if err != nil {
		return d, err
	}
	d.Importance = imp
	if d.Recipe == "" {
		return d, fmt.Errorf("field %s: missing", semconv.SecurityRuleNameKey)
	}
	return d, f.err
}

// importanceOf reads a detection's importance: its attribute, or for
// lines written before vigil had it, the severity it maps to.
func importanceOf(f *fields) (recipe.Importance, error) {
	if name := f.str(string(semconv.VigilRecipeImportanceKey)); name != "" {
		imp, err := recipe.ParseImportance(name)
		if err != nil {
			return 0, fmt.Errorf("field %s: %w, got %q", semconv.VigilRecipeImportanceKey, err, name)
		}
		return imp, nil
	}
	var sev int64
	f.get("severity_number", &sev)
	// The exporter's mapping: INFO, WARN, ERROR, FATAL.
	switch sev {
	case 9:
		return recipe.Low, nil
	case 13:
		return recipe.Medium, nil
	case 17:
		return recipe.High, nil
	case 21:
		return recipe.Critical, nil
	}
	return 0, fmt.Errorf("field %s: missing, and severity_number %d names none", semconv.VigilRecipeImportanceKey, sev)
}

// join writes an ATT&CK id and name as "ID Name".
func join(id, name string) string {
	switch {
	case id == "":
		return name
	case name == "":
		return id
	}
	return id + " " + name
}

// fields reads typed values from a flat JSON object, keeping the first
// error, which names its field.
type fields struct {
	obj map[string]json.RawMessage
	err error
}

func (f *fields) get(key string, v any) {
	raw, ok := f.obj[key]
	if !ok || f.err != nil {
		return
	}
	if err := json.Unmarshal(raw, v); err != nil {
		f.err = fmt.Errorf("field %s: %w", key, err)
	}
}

func (f *fields) str(key string) string {
	var s string
	f.get(key, &s)
	return s
}

func (f *fields) int(key attribute.Key) int64 {
	var n int64
	f.get(string(key), &n)
	return n
}

func (f *fields) bool(key attribute.Key) bool {
	var b bool
	f.get(string(key), &b)
	return b
}

func (f *fields) strs(key attribute.Key) []string {
	var s []string
	f.get(string(key), &s)
	return s
}
