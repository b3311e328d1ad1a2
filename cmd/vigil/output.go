package main

import (
	"fmt"
	"io"
	"os"

	"github.com/spf13/pflag"
	"go.opentelemetry.io/otel/sdk/resource"

	"github.com/vigil-otel/vigil/cicontext"
	"github.com/vigil-otel/vigil/exporter"
	"github.com/vigil-otel/vigil/internal/safefile"
	"github.com/vigil-otel/vigil/pipeline"
	"github.com/vigil-otel/vigil/redact"
	"github.com/vigil-otel/vigil/sensor"
	"github.com/vigil-otel/vigil/spans"
)

// Outputs: where detections go (OTLP, a JSON lines file, the console),
// resolved from the flags and the configuration file.

// output says where detections go; run and replay share it.
type output struct {
	jsonl        string
	otlp         bool
	otlpEndpoint string
	spans        spans.Mode
	// The rest has no flag: it comes from the configuration file.
	otlpSettings       exporter.OTLPSettings
	serviceName        string
	resourceAttributes map[string]string
	redaction          redact.Config
	// stateDir holds the spool (--state-dir); stateDirSet says the flag or
	// the file named one, an empty one included.
	stateDir    string
	stateDirSet bool
	// spoolSize bounds the spool, in bytes (configuration file only).
	spoolSize int64
	// outputMode is the permission bits of the files vigil creates
	// (--output-mode).
	outputMode safefile.Mode
}

func (o *output) flags(f *pflag.FlagSet) {
	f.StringVar(&o.jsonl, "jsonl", "", "write each detection as one JSON object per line to `PATH` (- for stdout)")
	o.outputMode = safefile.DefaultMode
	f.Var(&o.outputMode, "output-mode", "permission bits, in octal, of the files vigil creates (--jsonl, --record, reports): 0600, 0640 or 0644; an existing file is narrowed to them")
	f.BoolVar(&o.otlp, "otlp", false, "export detections over OTLP/gRPC even when no OTEL_EXPORTER_OTLP_* endpoint is set")
	f.StringVar(&o.otlpEndpoint, "otlp-endpoint", "", "OTLP/gRPC endpoint `URL` of every signal: http://host:4317 for plain text, https://host:4317 for TLS; implies --otlp")
	checkFlag(f, "otlp-endpoint", func() error { return exporter.CheckEndpoint(o.otlpEndpoint) })
	f.Var(&o.spans, "spans", "which processes that run in a trace get a span, exported with OTLP: all, those with detections and their ancestors, or none")
}

// pipelineConfig resolves the outputs: OTLP when asked or configured, the
// JSON lines file, and the console when there is neither; what is
// redacted before anything goes out, and which traced processes get a
// span. The returned function closes what it opened.
func (o *output) pipelineConfig(stdout, stderr io.Writer) (pipeline.Config, func() error, error) {
	s := o.otlpSettings
	if o.otlpEndpoint != "" {
		// An endpoint on the command line is for every signal: those the
		// file names, per-signal ones included, give way to it.
		s.Endpoint, s.Logs.Endpoint, s.Traces.Endpoint, s.Metrics.Endpoint = o.otlpEndpoint, "", "", ""
	}
	redactor, err := o.redaction.Redactor()
	if err != nil {
		return pipeline.Config{}, func() error { return nil }, fmt.Errorf("redaction rules: %w", err)
	}
	cfg := exporter.Config{
		// An endpoint named anywhere, for any signal, turns OTLP on.
		OTLP: o.otlp || s.Endpoint != "" || s.Logs.Endpoint != "" || s.Traces.Endpoint != "" || s.Metrics.Endpoint != "" ||
			exporter.OTLPFromEnv(),
		OTLPSettings:       s,
		ServiceVersion:     version(),
		ServiceName:        o.serviceName,
		ResourceAttributes: o.resourceAttributes,
		Spans:              o.spans != spans.None,
		Delivery:           exporter.Delivery{StateDir: o.stateDir, DiskBytes: o.spoolSize, SpoolOptional: !o.stateDirSet},
		Redactor:           redactor,
		Detectors: []resource.Detector{
			cicontext.CIDetector(os.Getenv, redactor),
			cicontext.ContainerDetector(os.DirFS("/proc/self"), sensor.ContainerID),
		},
	}
	closeFn := func() error { return nil }
	out := pipeline.Config{Redactor: redactor, Spans: o.spans}
	switch o.jsonl {
	case "":
	case "-":
		cfg.JSONL = stdout
	default:
		f, err := createOutput("--jsonl", o.jsonl, safefile.Options{Mode: o.outputMode})
		if err != nil {
			return out, closeFn, err
		}
		cfg.JSONL, closeFn = f, f.Close
	}
	if cfg.JSONL == nil && !cfg.OTLP {
		cfg.Console = stderr
	}
	out.Exporter = cfg
	return out, closeFn, nil
}
