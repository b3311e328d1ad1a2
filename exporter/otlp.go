package exporter

// OTLP/gRPC settings: what the configuration file says of each signal's
// endpoint and connection. What it leaves empty, the OTEL_EXPORTER_OTLP_*
// variables decide (connection.go).

import (
	"cmp"
	"crypto/tls"
	"os"
	"time"
)

// OTLPConnection is how to reach an OTLP receiver. Each field set
// overrides the OTEL_EXPORTER_OTLP_* variables of its meaning, the
// per-signal ones included; each one left empty leaves them in charge.
//
// The yaml names are those of vigil's configuration file (package config).
type OTLPConnection struct {
	// Endpoint is the receiver's URL: "http://host:4317" for plain text,
	// "https://..." for TLS.
	Endpoint string `yaml:"endpoint"`
	// Headers are sent with each export request.
	Headers map[string]string `yaml:"headers"`
	// Insecure, when set, overrides OTEL_EXPORTER_OTLP_INSECURE: true
	// forces plain text, whatever the endpoint's scheme; false has an
	// endpoint without a scheme use TLS (an http:// one stays plain text).
	Insecure *bool `yaml:"insecure"`
	// Timeout bounds each export request.
	Timeout time.Duration `yaml:"timeout"`
	// Compression is "gzip" or "none".
	Compression string `yaml:"compression"`
	// TLS, when set, secures the connections: the CAs that verify the
	// receiver, vigil's own certificate for mutual TLS.
	TLS *tls.Config `yaml:"-"`
}

// OTLPSettings are the OTLP exporters' settings: those of every signal,
// and what differs for one.
type OTLPSettings struct {
	OTLPConnection
	// Logs (detections), Traces (spans) and Metrics (vigil's own)
	// override the settings of every signal for theirs, field by field.
	Logs, Traces, Metrics OTLPConnection
}

// of returns the settings of a signal whose own are sig: each of its
// fields, else the same field of every signal's.
func (s OTLPSettings) of(sig OTLPConnection) OTLPConnection {
	all := s.OTLPConnection
	sig.Endpoint = cmp.Or(sig.Endpoint, all.Endpoint)
	if sig.Headers == nil {
		sig.Headers = all.Headers
	}
	sig.Insecure = cmp.Or(sig.Insecure, all.Insecure)
	sig.Timeout = cmp.Or(sig.Timeout, all.Timeout)
	sig.Compression = cmp.Or(sig.Compression, all.Compression)
	sig.TLS = cmp.Or(sig.TLS, all.TLS)
	return sig
}

// OTLPFromEnv says whether the environment names an OTLP endpoint, for
// all signals or for one, which turns OTLP export on.
func OTLPFromEnv() bool {
	for _, name := range []string{
		"OTEL_EXPORTER_OTLP_ENDPOINT",
		"OTEL_EXPORTER_OTLP_LOGS_ENDPOINT",
		"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
		"OTEL_EXPORTER_OTLP_METRICS_ENDPOINT",
	} {
		if os.Getenv(name) != "" {
			return true
		}
	}
	return false
}
