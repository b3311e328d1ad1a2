package exporter

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/vigil-otel/vigil/internal/otlptest"
)

// TestEndpointForms: vigil's own settings want a URL whose scheme says
// plain text or TLS; the variables also take what gRPC dials without
// one, as the specification has them; both refuse another scheme, saying
// what was wanted with the receiver given.
func TestEndpointForms(t *testing.T) {
	for _, tc := range []struct {
		name, endpoint string
		fromVar        bool
		target         string
		plain          bool
		err            string
	}{
		{name: "http", endpoint: "http://collector:4317", target: "collector:4317", plain: true},
		{name: "https", endpoint: "https://collector:4317", target: "collector:4317"},
		{name: "http from a variable", endpoint: "http://collector:4317", fromVar: true, target: "collector:4317", plain: true},
		{name: "host:port from a variable", endpoint: "collector:4317", fromVar: true, target: "collector:4317"},
		{name: "unix from a variable", endpoint: "unix:///run/otel.sock", fromVar: true, target: "unix:///run/otel.sock", plain: true},
		{name: "host:port as a setting", endpoint: "collector:4317",
			err: `endpoint "collector:4317": want a URL such as http://collector:4317 (plain text) or https://collector:4317 (TLS)`},
		{name: "an address as a setting", endpoint: "10.0.0.7:4317",
			err: `endpoint "10.0.0.7:4317": want a URL such as http://10.0.0.7:4317 (plain text) or https://10.0.0.7:4317 (TLS)`},
		{name: "ftp as a setting", endpoint: "ftp://x",
			err: `endpoint "ftp://x": want a URL such as http://x (plain text) or https://x (TLS)`},
		{name: "ftp from a variable", endpoint: "ftp://x:21", fromVar: true,
			err: `OTEL_EXPORTER_OTLP_ENDPOINT="ftp://x:21": want a URL such as http://x:21 (plain text) or https://x:21 (TLS), or host:port`},
		{name: "no host", endpoint: "http:///v1", fromVar: true,
			err: `OTEL_EXPORTER_OTLP_ENDPOINT="http:///v1": want a URL such as http://collector:4317 (plain text) or https://collector:4317 (TLS), or host:port`},
		{name: "unix as a setting", endpoint: "unix:///run/otel.sock",
			err: `endpoint "unix:///run/otel.sock": want a URL such as http://collector:4317 (plain text) or https://collector:4317 (TLS)`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			otlptest.ClearOTelEnv(t)
			var s OTLPConnection
			if tc.fromVar {
				t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", tc.endpoint)
			} else {
				s.Endpoint = tc.endpoint
				if tc.err == "" {
					require.NoError(t, CheckEndpoint(tc.endpoint))
				}
			}
			c, err := resolve(s, "LOGS")
			if tc.err != "" {
				require.EqualError(t, err, "OTLP logs settings: "+tc.err)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tc.target, c.target)
			require.Equal(t, tc.plain, c.plain)
		})
	}
}

// TestCompressionChecked: a compression the setting or the variable
// gives is gzip or none, the same check for both.
func TestCompressionChecked(t *testing.T) {
	otlptest.ClearOTelEnv(t)
	require.NoError(t, CheckCompression("gzip"))
	require.NoError(t, CheckCompression("none"))
	_, err := resolve(OTLPConnection{Compression: "zstd"}, "TRACES")
	require.EqualError(t, err, `OTLP traces settings: compression "zstd": want one of gzip, none`)
	t.Setenv("OTEL_EXPORTER_OTLP_TRACES_COMPRESSION", "br")
	_, err = resolve(OTLPConnection{}, "TRACES")
	require.EqualError(t, err, `OTLP traces settings: OTEL_EXPORTER_OTLP_TRACES_COMPRESSION="br": want one of gzip, none`)
	c, err := resolve(OTLPConnection{Compression: "gzip"}, "TRACES")
	require.NoError(t, err)
	require.True(t, c.gzip, "the setting beats the variable")
}
