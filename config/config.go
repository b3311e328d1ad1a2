// Package config reads vigil's configuration file (vigil run --config
// vigil.yaml): every setting of vigil run and vigil replay, the OTLP
// exporter's settings, the resource, the sensor's and redaction's.
//
// The file is read strictly: an unknown field, a value of the wrong type,
// a bad duration or a certificate that cannot be read is an error naming
// the file, line, column and field. A setting that a flag or a variable
// also gives is checked by the function that checks them (check.go). Nothing here decides precedence: the
// command applies what the file says to each setting its command line
// left alone, and the exporters read the OTEL_* variables for whatever
// neither names. docs/configuration.md describes every field.
package config

import (
	"errors"
	"fmt"
	"os"
	"reflect"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/vigil-otel/vigil/exporter"
	"github.com/vigil-otel/vigil/internal/located"
	"github.com/vigil-otel/vigil/internal/safefile"
	"github.com/vigil-otel/vigil/redact"
	"github.com/vigil-otel/vigil/spans"
)

// File is a configuration file. A field the file leaves out is the zero
// value, which stands for "not said": the flag's default or the
// environment then decides.
type File struct {
	// Path is the file this was read from.
	Path string `yaml:"-"`

	// LogLevel is --log-level.
	LogLevel *LogLevel `yaml:"log_level"`
	// JSONL is --jsonl.
	JSONL string `yaml:"jsonl"`
	// OutputMode is --output-mode; nil when the file does not say.
	OutputMode *safefile.Mode `yaml:"output_mode"`
	// Spans is --spans; nil when the file does not say.
	Spans *spans.Mode `yaml:"spans"`
	// Recipes is --recipes, the directories of extra recipe files.
	Recipes []string `yaml:"recipes"`
	// Record is --record (vigil run only).
	Record string `yaml:"record"`

	OTLP OTLP `yaml:"otlp"`

	// ServiceName names the service on the resource, over
	// OTEL_SERVICE_NAME.
	ServiceName string `yaml:"service_name"`
	// ResourceAttributes are added to the resource, over
	// OTEL_RESOURCE_ATTRIBUTES and what vigil detects itself.
	ResourceAttributes map[string]string `yaml:"resource_attributes"`

	Sensor Sensor `yaml:"sensor"`
	// HealthAddress is --health-addr.
	HealthAddress string `yaml:"health_address"`
	// StateDir holds the spool of what the OTLP receiver has not taken;
	// an empty one keeps nothing on disk (vigil run --state-dir).
	StateDir *string `yaml:"state_dir"`
	// SpoolSize bounds the spool, in bytes, per signal.
	SpoolSize int64 `yaml:"spool_size"`
	// StopTimeout bounds a stop (vigil run --stop-timeout).
	StopTimeout time.Duration `yaml:"stop_timeout"`

	// Redaction adds rules to the default ones and turns default ones off.
	Redaction redact.Config `yaml:"redaction"`
}

// OTLP is the exporter's part: the connection of every signal, and what
// differs for one. Each field set overrides the corresponding
// OTEL_EXPORTER_OTLP_* variable, the per-signal ones included.
type OTLP struct {
	// Enabled is --otlp: export even when no endpoint is named anywhere
	// (the exporters then use localhost:4317).
	Enabled bool `yaml:"enabled"`
	// Connection is that of every signal; its endpoint is
	// --otlp-endpoint's. Naming an endpoint, here or for one signal, turns
	// OTLP export on.
	Connection `yaml:",inline"`
	// Logs (detections), Traces (spans) and Metrics (vigil's own) beat
	// Connection for their signal, field by field.
	Logs    Connection `yaml:"logs"`
	Traces  Connection `yaml:"traces"`
	Metrics Connection `yaml:"metrics"`
}

// Connection is how to reach a receiver: the exporter's settings, and the
// certificate files its TLS configuration is read from.
type Connection struct {
	exporter.OTLPConnection `yaml:",inline"`
	// Certificate is the PEM file of the CAs that verify the receiver.
	Certificate string `yaml:"certificate"`
	// ClientCertificate and ClientKey are the PEM files of vigil's own
	// certificate and key, for mutual TLS; both or neither.
	ClientCertificate string `yaml:"client_certificate"`
	ClientKey         string `yaml:"client_key"`
}

// Settings are the exporter's settings the file gives.
func (o *OTLP) Settings() exporter.OTLPSettings {
	return exporter.OTLPSettings{
		OTLPConnection: o.OTLPConnection,
		Logs:           o.Logs.OTLPConnection,
		Traces:         o.Traces.OTLPConnection,
		Metrics:        o.Metrics.OTLPConnection,
	}
}

// connections returns the file's connections with the path of their
// fields.
func (o *OTLP) connections() []struct {
	field string
	conn  *Connection
} {
	return []struct {
		field string
		conn  *Connection
	}{{"otlp", &o.Connection}, {"otlp.logs", &o.Logs}, {"otlp.traces", &o.Traces}, {"otlp.metrics", &o.Metrics}}
}

// Sensor is the sensor's part.
type Sensor struct {
	// Env names environment variables read at each exec, besides
	// sensor.DefaultEnv().
	Env []string `yaml:"env"`
	// ArgsMax is --args-max.
	ArgsMax int `yaml:"args_max"`
	// RingBufferSize is --ring-buffer-size.
	RingBufferSize int `yaml:"ring_buffer_size"`
	// WakeupInterval is --wakeup-interval.
	WakeupInterval time.Duration `yaml:"wakeup_interval"`
	// ProcRoot is --proc-root.
	ProcRoot string `yaml:"proc_root"`
}

// Load reads and checks the configuration file at path. Every problem
// found is reported, each as an *Error, joined.
func Load(path string) (*File, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read configuration: %w", err)
	}
	return Parse(path, data)
}

// Parse reads configuration from data; path names it in errors, and the
// certificate files it names are read.
func Parse(path string, data []byte) (*File, error) {
	f := &File{Path: path}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		line, col, reason := located.YAMLSyntax(data, err)
		return nil, &Error{File: path, Line: line, Column: col, Reason: reason}
	}
	if len(doc.Content) == 0 {
		return f, nil // an empty file says nothing
	}
	d := &decoder{file: path, nodes: make(map[string]*yaml.Node)}
	d.decode(doc.Content[0], reflect.ValueOf(f).Elem(), "")
	if len(d.errs) == 0 {
		f.check(d)
	}
	if len(d.errs) > 0 {
		return nil, errors.Join(d.errs...)
	}
	return f, nil
}
