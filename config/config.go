// Package config reads vigil's configuration file (vigil run --config
// vigil.yaml): every setting of vigil run and vigil replay, the OTLP
// exporter's settings, the resource, the sensor's and redaction's.
//
// The file is read strictly: an unknown field, a value of the wrong type,
// a bad duration or a certificate that cannot be read is an error naming
// the file, line, column and field. Nothing here decides precedence: the
// command applies what the file says to each setting its command line
// left alone, and the exporters read the OTEL_* variables for whatever
// neither names. docs/configuration.md describes every field.
package config

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"reflect"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/vigil-otel/vigil/exporter"
	"github.com/vigil-otel/vigil/internal/located"
	"github.com/vigil-otel/vigil/internal/safefile"
	"github.com/vigil-otel/vigil/redact"
	"github.com/vigil-otel/vigil/sensor"
	"github.com/vigil-otel/vigil/spans"
)

// File is a configuration file. A field the file leaves out is the zero
// value, which stands for "not said": the flag's default or the
// environment then decides.
type File struct {
	// Path is the file this was read from.
	Path string `yaml:"-"`

	// LogLevel is --log-level.
	LogLevel *slog.Level `yaml:"log_level"`
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

// check finds what the types alone do not: bad URLs, values out of range,
// settings that exclude each other, unreadable certificates, bad
// redaction rules.
func (f *File) check(d *decoder) {
	for _, c := range f.OTLP.connections() {
		c.conn.check(d, c.field)
	}

	for k := range f.ResourceAttributes {
		if k == "" {
			d.fail("resource_attributes", "an attribute has an empty name")
		}
	}
	if s := f.Sensor; s.ArgsMax < 0 || s.ArgsMax > sensor.MaxArgsMax {
		d.fail("sensor.args_max", "want 1 to %d bytes, got %d", sensor.MaxArgsMax, s.ArgsMax)
	}
	if n := f.Sensor.RingBufferSize; n < 0 || n&(n-1) != 0 {
		d.fail("sensor.ring_buffer_size", "want a power of two, got %d", n)
	}
	if w := f.Sensor.WakeupInterval; w < 0 || w > time.Minute {
		d.fail("sensor.wakeup_interval", "want 0 to 1m, got %s", w)
	}
	f.checkRedaction(d)
}

// check finds the problems of a connection whose fields are under field,
// and reads its certificate files into its TLS configuration.
func (c *Connection) check(d *decoder, field string) {
	if u := c.Endpoint; u != "" {
		if p, err := url.Parse(u); err != nil || p.Scheme != "http" && p.Scheme != "https" || p.Host == "" {
			d.fail(field+".endpoint", "want a URL such as http://collector:4317 (plain text) or https://collector:4317, got %q", u)
		}
	}
	for k := range c.Headers {
		if k == "" {
			d.fail(field+".headers", "a header has an empty name")
		}
	}
	if _, ok := d.nodes[field+".timeout"]; ok && c.Timeout == 0 {
		d.fail(field+".timeout", "want more than 0s")
	}
	switch c.Compression {
	case "", "gzip", "none":
	default:
		d.fail(field+".compression", "want gzip or none, got %q", c.Compression)
	}
	if c.Insecure != nil && *c.Insecure && (c.Certificate != "" || c.ClientCertificate != "") {
		d.fail(field+".insecure", "plain text, yet certificates are given for TLS")
	}
	if (c.ClientCertificate == "") != (c.ClientKey == "") {
		d.fail(field+".client_certificate", "client_certificate and client_key go together")
	}
	c.TLS = c.tlsConfig(d, field)
}

// tlsConfig reads the certificate files, if any, into a TLS
// configuration.
func (c *Connection) tlsConfig(d *decoder, field string) *tls.Config {
	if c.Certificate == "" && c.ClientCertificate == "" {
		return nil
	}
	cfg := &tls.Config{MinVersion: tls.VersionTLS12}
	if c.Certificate != "" {
		pem, err := os.ReadFile(c.Certificate)
		switch {
		case err != nil:
			d.fail(field+".certificate", "read CA certificate: %v", err)
		default:
			cfg.RootCAs = x509.NewCertPool()
			if !cfg.RootCAs.AppendCertsFromPEM(pem) {
				d.fail(field+".certificate", "%s holds no PEM certificate", c.Certificate)
			}
		}
	}
	if c.ClientCertificate != "" && c.ClientKey != "" {
		cert, err := tls.LoadX509KeyPair(c.ClientCertificate, c.ClientKey)
		if err != nil {
			d.fail(field+".client_certificate", "load client certificate and key: %v", err)
		}
		cfg.Certificates = []tls.Certificate{cert}
	}
	return cfg
}

// checkRedaction compiles the redaction rules, each alone first so that a
// bad one is located at its own entry, then with the defaults.
func (f *File) checkRedaction(d *decoder) {
	r := f.Redaction
	failed := false
	for i, rule := range r.Rules {
		if _, err := redact.New([]redact.Rule{rule}); err != nil {
			// New names the rule by its index among those it was given;
			// the field path says which it is here.
			if inner := errors.Unwrap(err); inner != nil {
				err = inner
			}
			d.fail(fmt.Sprintf("redaction.rules[%d]", i), "rule %q: %v", rule.Name, err)
			failed = true
		}
	}
	if failed || len(r.Rules) == 0 && len(r.Disable) == 0 {
		return
	}
	if _, err := r.Redactor(); err != nil {
		d.fail("redaction", "%v", err)
	}
}
