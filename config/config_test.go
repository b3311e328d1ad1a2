package config

import (
	"bytes"
	"crypto/x509"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/vigil-otel/vigil/exporter"
	"github.com/vigil-otel/vigil/internal/otlptest"
	"github.com/vigil-otel/vigil/internal/safefile"
	"github.com/vigil-otel/vigil/redact"
	"github.com/vigil-otel/vigil/spans"
)

// TestLoadExample loads the example that docs/configuration.md shows and
// checks every value.
func TestLoadExample(t *testing.T) {
	data, err := os.ReadFile("testdata/vigil.yaml")
	require.NoError(t, err)
	// The recipe directory must be there: one that is stands in for the
	// example's.
	recipes := t.TempDir()
	data = bytes.Replace(data, []byte("/etc/vigil/recipes"), []byte(recipes), 1)
	f, err := Parse("testdata/vigil.yaml", data)
	require.NoError(t, err)
	info, detections, stateDir, mode := LogLevel(slog.LevelInfo), spans.Detections, "/var/lib/vigil", safefile.Mode(0o640)
	require.Equal(t, &File{
		Path:          "testdata/vigil.yaml",
		LogLevel:      &info,
		JSONL:         "/var/log/vigil/detections.jsonl",
		OutputMode:    &mode,
		Spans:         &detections,
		Recipes:       []string{recipes},
		HealthAddress: "127.0.0.1:9464",
		StateDir:      &stateDir,
		SpoolSize:     256 << 20,
		StopTimeout:   30 * time.Second,
		OTLP: OTLP{
			Enabled: true,
			Connection: Connection{OTLPConnection: exporter.OTLPConnection{
				Endpoint:    "https://collector.example.com:4317",
				Headers:     map[string]string{"authorization": "Bearer my-token", "x-team": "security"},
				Timeout:     10 * time.Second,
				Compression: "gzip",
			}},
			Traces: Connection{OTLPConnection: exporter.OTLPConnection{
				Endpoint: "https://traces.example.com:4317",
				Headers:  map[string]string{"x-scope-orgid": "acme"},
			}},
		},
		ServiceName:        "vigil-ci",
		ResourceAttributes: map[string]string{"deployment.environment.name": "production", "team": "platform"},
		Sensor:             Sensor{Env: []string{"DEPLOY_ID", "HTTPS_PROXY"}, ArgsMax: 8192, RingBufferSize: 16 << 20, WakeupInterval: 500 * time.Millisecond, ProcRoot: "/host/proc"},
		Redaction: redact.Config{
			Disable: []string{"jwt"},
			Rules: []redact.Rule{
				{Name: "acme-token", Pattern: `\bacme_[0-9a-f]{32}\b`},
				{Name: "deploy-key", Flags: []string{"--deploy-key"}, Programs: []string{"deployctl"}},
			},
		},
	}, f)
}

// TestDocsQuoteExample keeps docs/configuration.md's example the file
// TestLoadExample checks.
func TestDocsQuoteExample(t *testing.T) {
	doc, err := os.ReadFile("../docs/configuration.md")
	require.NoError(t, err)
	example, err := os.ReadFile("testdata/vigil.yaml")
	require.NoError(t, err)
	_, rest, ok := strings.Cut(string(doc), "<!-- begin config/testdata/vigil.yaml -->\n```yaml\n")
	require.True(t, ok, "no begin marker")
	quoted, _, ok := strings.Cut(rest, "```\n<!-- end config/testdata/vigil.yaml -->")
	require.True(t, ok, "no end marker")
	require.Equal(t, string(example), quoted, "copy config/testdata/vigil.yaml into docs/configuration.md")
}

func TestEmptyFileSaysNothing(t *testing.T) {
	f, err := Parse("empty.yaml", []byte("# nothing\n"))
	require.NoError(t, err)
	require.Equal(t, &File{Path: "empty.yaml"}, f)
}

func TestErrorsAreLocated(t *testing.T) {
	for _, tc := range []struct {
		name, yaml, want string
	}{
		{"unknown field", "otlp:\n  endpiont: http://x:4317\n",
			"v.yaml:2:3: field otlp.endpiont: unknown field, want one of certificate, client_certificate, client_key, compression, enabled, endpoint, headers, insecure, logs, metrics, timeout, traces"},
		{"unknown top-level field", "jsonl: a\nservice: x\n",
			"v.yaml:2:1: field service: unknown field, want one of health_address, jsonl, log_level, otlp, output_mode, recipes, record, redaction, resource_attributes, sensor, service_name, spans, spool_size, state_dir, stop_timeout"},
		{"repeated field", "jsonl: a\njsonl: b\n", "v.yaml:2:1: field jsonl: repeated"},
		{"string for a number", "sensor:\n  args_max: lots\n", `v.yaml:2:13: field sensor.args_max: want a whole number, got "lots"`},
		{"quoted bool", "otlp:\n  insecure: \"true\"\n", `v.yaml:2:13: field otlp.insecure: want true or false, got "true"`},
		{"list for a string", "jsonl: [a, b]\n", "v.yaml:1:8: field jsonl: want a string"},
		{"string for a list", "recipes: /etc/vigil\n", "v.yaml:1:10: field recipes: want a list"},
		{"scalar for a map", "otlp:\n  headers: x=y\n", "v.yaml:2:12: field otlp.headers: want a mapping"},
		{"bad duration", "otlp:\n  timeout: 10\n", `v.yaml:2:12: field otlp.timeout: want a duration such as 10s or 500ms, got "10"`},
		{"zero duration", "otlp:\n  timeout: 0s\n", "v.yaml:2:12: field otlp.timeout: want more than 0s"},
		{"group-writable output mode", "output_mode: \"0664\"\n",
			`v.yaml:1:14: field output_mode: want 0600, 0640 or 0644: the group and other users may only read, and no one execute, got "0664"`},
		{"output mode not octal", "output_mode: rw\n", `v.yaml:1:14: field output_mode: want an octal mode such as 0600 or 0640, got "rw"`},
		{"bad span mode", "spans: some\n", `v.yaml:1:8: field spans: want one of all, detections, none, got "some"`},
		{"bad log level", "log_level: loud\n", `v.yaml:1:12: field log_level: want one of debug, info, warn, error, got "loud"`},
		{"endpoint without scheme", "otlp:\n  logs:\n    endpoint: collector:4317\n",
			`v.yaml:3:15: field otlp.logs.endpoint: want a URL such as http://collector:4317 (plain text) or https://collector:4317 (TLS), got "collector:4317"`},
		{"endpoint of another scheme", "otlp:\n  endpoint: ftp://x\n", `v.yaml:2:13: field otlp.endpoint: want a URL such as http://x (plain text) or https://x (TLS), got "ftp://x"`},
		{"bad compression", "otlp:\n  compression: zstd\n", `v.yaml:2:16: field otlp.compression: want one of gzip, none, got "zstd"`},
		{"missing CA file of one signal", "otlp:\n  metrics:\n    certificate: /nonexistent/ca.pem\n",
			"v.yaml:3:18: field otlp.metrics.certificate: read CA certificate: open /nonexistent/ca.pem: no such file or directory"},
		{"missing CA file", "otlp:\n  certificate: /nonexistent/ca.pem\n",
			"v.yaml:2:16: field otlp.certificate: read CA certificate: open /nonexistent/ca.pem: no such file or directory"},
		{"client certificate without key", "otlp:\n  client_certificate: /x.pem\n",
			"v.yaml:2:23: field otlp.client_certificate: client_certificate and client_key go together"},
		{"client key without certificate", "otlp:\n  traces:\n    client_key: /k.pem\n",
			"v.yaml:3:17: field otlp.traces.client_key: client_certificate and client_key go together"},
		{"missing client files", "otlp:\n  client_certificate: /nonexistent/c.pem\n  client_key: /nonexistent/k.pem\n",
			"v.yaml:2:23: field otlp.client_certificate: load client certificate and key: open /nonexistent/c.pem: no such file or directory"},
		{"ring buffer not a power of two", "sensor:\n  ring_buffer_size: 1000\n", `v.yaml:2:21: field sensor.ring_buffer_size: want a power of two of at least 4096 bytes, got "1000"`},
		{"wakeup interval too long", "sensor:\n  wakeup_interval: 2m\n", `v.yaml:2:20: field sensor.wakeup_interval: want more than 0s, at most 1m0s, got "2m"`},
		{"missing recipe directory", "recipes: [/a/typo]\n", `v.yaml:1:11: field recipes[0]: no such file or directory, got "/a/typo"`},
		{"args max too large", "sensor:\n  args_max: 100000\n", `v.yaml:2:13: field sensor.args_max: want 1 to 32768 bytes, got "100000"`},
		{"bad redaction rule", "redaction:\n  rules:\n    - name: a\n      pattern: x\n    - name: b\n",
			`v.yaml:5:7: field redaction.rules[1]: rule "b": neither pattern nor flags`},
		{"unknown rule field", "redaction:\n  rules:\n    - name: a\n      regex: x\n",
			"v.yaml:4:7: field redaction.rules[0].regex: unknown field, want one of bundle, flags, name, pattern, programs, value"},
		{"disable unknown default", "redaction:\n  disable: [nosuch]\n",
			`v.yaml:2:3: field redaction: redaction: disable "nosuch": no default rule has that name`},
		{"syntax error", "jsonl: a\notlp:\n  endpoint: http://x:4317\n   timeout: 5s\n", "v.yaml:4:11: mapping values are not allowed in this context"},
		{"unclosed list", "recipes: [/etc/vigil\nspans: all\n", "v.yaml:2:6: did not find expected ',' or ']' (while parsing a flow sequence from line 1, column 10)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse("v.yaml", []byte(tc.yaml))
			require.EqualError(t, err, tc.want)
		})
	}
}

// TestEveryErrorIsReported checks that one bad field does not hide the
// next.
func TestEveryErrorIsReported(t *testing.T) {
	_, err := Parse("v.yaml", []byte("spans: some\nsensor:\n  args_max: x\n"))
	require.EqualError(t, err, `v.yaml:1:8: field spans: want one of all, detections, none, got "some"`+"\n"+
		`v.yaml:3:13: field sensor.args_max: want a whole number, got "x"`)
}

func TestLoadMissingFile(t *testing.T) {
	_, err := Load("/nonexistent/vigil.yaml")
	require.EqualError(t, err, "read configuration: open /nonexistent/vigil.yaml: no such file or directory")
}

// TestTLSFiles builds the exporters' TLS configuration from a CA and a
// client certificate and key.
func TestTLSFiles(t *testing.T) {
	certs := otlptest.NewCertificates(t)
	f, err := Parse("v.yaml", []byte("otlp:\n  certificate: "+certs.CAFile+"\n  client_certificate: "+certs.CertFile+"\n  client_key: "+certs.KeyFile+"\n"))
	require.NoError(t, err)
	require.NotNil(t, f.OTLP.TLS)
	require.Len(t, f.OTLP.TLS.Certificates, 1)
	cert, err := x509.ParseCertificate(f.OTLP.TLS.Certificates[0].Certificate[0])
	require.NoError(t, err)
	require.Equal(t, "otlptest", cert.Subject.CommonName)
	want := x509.NewCertPool()
	want.AddCert(cert)
	require.True(t, f.OTLP.TLS.RootCAs.Equal(want))

	junk := filepath.Join(t.TempDir(), "junk.pem")
	require.NoError(t, os.WriteFile(junk, []byte("junk"), 0o600))
	_, err = Parse("v.yaml", []byte("otlp:\n  certificate: "+junk+"\n"))
	require.EqualError(t, err, "v.yaml:2:16: field otlp.certificate: "+junk+" holds no PEM certificate")
	_, err = Parse("v.yaml", []byte("otlp:\n  insecure: true\n  certificate: "+certs.CAFile+"\n"))
	require.EqualError(t, err, "v.yaml:2:13: field otlp.insecure: plain text, yet certificates are given for TLS")
}

// TestInsecureSaidOrNot tells insecure: false, which overrides the
// environment, from a file that does not say.
func TestInsecureSaidOrNot(t *testing.T) {
	f, err := Parse("v.yaml", []byte("otlp:\n  insecure: false\n"))
	require.NoError(t, err)
	require.NotNil(t, f.OTLP.Insecure)
	require.False(t, *f.OTLP.Insecure)
	f, err = Parse("v.yaml", []byte("otlp:\n  endpoint: https://c:4317\n"))
	require.NoError(t, err)
	require.Nil(t, f.OTLP.Insecure)
}
