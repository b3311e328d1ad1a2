package exporter

// OTLP/gRPC settings: what the configuration file and the OTEL_EXPORTER_OTLP_*
// variables say of each signal's endpoint and connection, merged into the
// options of its exporter.

import (
	"cmp"
	"crypto/tls"
	"os"
	"strings"
	"time"

	"google.golang.org/grpc/credentials"
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

// grpcOptions are the option constructors of one OTLP/gRPC exporter
// package; the three packages have the same ones, of different types.
type grpcOptions[O any] struct {
	endpointURL func(string) O
	headers     func(map[string]string) O
	insecure    func() O
	timeout     func(time.Duration) O
	compressor  func(string) O
	credentials func(credentials.TransportCredentials) O
}

// otlpOptions turns the settings of one signal into the options of its
// exporter; signal names it in the variables (LOGS, TRACES, METRICS).
// Options are applied in order: insecure comes after the endpoint, whose
// scheme would otherwise decide.
func otlpOptions[O any](s OTLPConnection, signal string, with grpcOptions[O]) []O {
	var opts []O
	if s.Endpoint != "" {
		opts = append(opts, with.endpointURL(s.Endpoint))
	} else if u := envEndpointWithoutScheme(signal, s.Insecure); u != "" {
		opts = append(opts, with.endpointURL(u))
	}
	if s.Insecure != nil && *s.Insecure {
		opts = append(opts, with.insecure())
	}
	if s.Headers != nil {
		opts = append(opts, with.headers(s.Headers))
	}
	if s.Timeout > 0 {
		opts = append(opts, with.timeout(s.Timeout))
	}
	if s.Compression != "" {
		opts = append(opts, with.compressor(s.Compression))
	}
	if s.TLS != nil {
		opts = append(opts, with.credentials(credentials.NewTLS(s.TLS)))
	}
	return opts
}

// envEndpointWithoutScheme returns, as a URL, the endpoint the
// environment names for signal when it names one without a scheme
// (collector:4317): the specification has OTEL_EXPORTER_OTLP_INSECURE
// choose plain text (http://) or TLS (https://, the default) for those,
// which the exporters do not do themselves. It returns "" when the
// endpoint has a scheme, or there is none, and the exporters read it.
// insecure, when set, is said elsewhere and beats the variables.
func envEndpointWithoutScheme(signal string, insecure *bool) string {
	first := func(names ...string) string {
		for _, name := range names {
			if v := os.Getenv(name); v != "" {
				return v
			}
		}
		return ""
	}
	prefix := "OTEL_EXPORTER_OTLP_"
	endpoint := first(prefix+signal+"_ENDPOINT", prefix+"ENDPOINT")
	if endpoint == "" || strings.Contains(endpoint, "://") {
		return ""
	}
	plain := strings.EqualFold(first(prefix+signal+"_INSECURE", prefix+"INSECURE"), "true")
	if insecure != nil {
		plain = *insecure
	}
	scheme := "https://"
	if plain {
		scheme = "http://"
	}
	return scheme + strings.TrimPrefix(endpoint, "//")
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
