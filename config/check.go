package config

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"

	"github.com/vigil-otel/vigil/exporter"
	"github.com/vigil-otel/vigil/health"
	"github.com/vigil-otel/vigil/recipe"
	"github.com/vigil-otel/vigil/redact"
	"github.com/vigil-otel/vigil/sensor"
)

// What the types alone do not check. A setting that has a flag, or a
// variable, is checked by the same function for each of them, which says
// what it wants; the file's error adds where and what it got.

// LogLevel is a level of vigil's own logs, as --log-level and log_level
// name it.
type LogLevel slog.Level

// logLevels are the levels LogLevel names.
var logLevels = []slog.Level{slog.LevelDebug, slog.LevelInfo, slog.LevelWarn, slog.LevelError}

// Set reads a level's name, in any case.
func (l *LogLevel) Set(name string) error {
	for _, level := range logLevels {
		if strings.EqualFold(name, level.String()) {
			*l = LogLevel(level)
			return nil
		}
	}
	return errors.New("want one of debug, info, warn, error")
}

// String names the level as Set reads it.
func (l LogLevel) String() string { return strings.ToLower(slog.Level(l).String()) }

// check finds what the types alone do not: bad URLs, values out of range,
// missing recipe paths, settings that exclude each other, unreadable
// certificates, bad redaction rules.
func (f *File) check(d *decoder) {
	for _, c := range f.OTLP.connections() {
		c.conn.check(d, c.field)
	}
	for i, path := range f.Recipes {
		d.check(fmt.Sprintf("recipes[%d]", i), recipe.CheckPath(path))
	}
	for k := range f.ResourceAttributes {
		if k == "" {
			d.fail("resource_attributes", "an attribute has an empty name")
		}
	}
	if f.HealthAddress != "" {
		d.check("health_address", health.CheckAddress(f.HealthAddress))
	}
	d.check("sensor.args_max", sensor.CheckArgsMax(f.Sensor.ArgsMax))
	d.check("sensor.ring_buffer_size", sensor.CheckRingBufferSize(f.Sensor.RingBufferSize))
	d.check("sensor.wakeup_interval", sensor.CheckWakeupInterval(f.Sensor.WakeupInterval))
	f.checkRedaction(d)
}

// check finds the problems of a connection whose fields are under field,
// and reads its certificate files into its TLS configuration.
func (c *Connection) check(d *decoder, field string) {
	d.check(field+".endpoint", exporter.CheckEndpoint(c.Endpoint))
	for k := range c.Headers {
		if k == "" {
			d.fail(field+".headers", "a header has an empty name")
		}
	}
	if _, ok := d.nodes[field+".timeout"]; ok && c.Timeout == 0 {
		d.fail(field+".timeout", "want more than 0s")
	}
	d.check(field+".compression", exporter.CheckCompression(c.Compression))
	if c.Insecure != nil && *c.Insecure && (c.Certificate != "" || c.ClientCertificate != "") {
		d.fail(field+".insecure", "plain text, yet certificates are given for TLS")
	}
	if (c.ClientCertificate == "") != (c.ClientKey == "") {
		// Located at the one given: the other has no place in the file.
		given := field + ".client_certificate"
		if c.ClientCertificate == "" {
			given = field + ".client_key"
		}
		d.fail(given, "client_certificate and client_key go together")
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
