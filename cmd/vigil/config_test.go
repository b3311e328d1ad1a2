package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/vigil-otel/vigil/internal/otlptest"
	"github.com/vigil-otel/vigil/semconv"
)

// recording is a shell that forks and execs zip: one detection.
const recording = `{"kind":"exec","time":"2026-11-27T10:00:00Z","pid":10,"ppid":1,"exe_path":"/usr/bin/dash","args":["sh","-c","zip -q a.zip b"],"argc":3}
{"kind":"fork","time":"2026-11-27T10:00:01Z","pid":11,"ppid":10}
{"kind":"exec","time":"2026-11-27T10:00:01.5Z","pid":11,"ppid":10,"exe_path":"/usr/bin/zip","args":["zip","-q","a.zip","b"],"argc":4,"uid":1000,"euid":1000}
{"kind":"exit","time":"2026-11-27T10:00:02Z","pid":11,"ppid":10}
`

// writeFile writes data to name in dir and returns its path.
func writeFile(t *testing.T, dir, name, data string) string {
	t.Helper()
	path := filepath.Join(dir, name)
	require.NoError(t, os.WriteFile(path, []byte(data), 0o600))
	return path
}

// serviceName is the service.name of a received record's resource.
func serviceName(t *testing.T, r otlptest.Record) string {
	t.Helper()
	v, ok := r.Resource.Resource().Attributes().Get(string(semconv.ServiceNameKey))
	require.True(t, ok, "no service.name")
	return v.Str()
}

// TestReplayPrecedence replays one detection with settings in all three
// layers and checks where it arrives, under which service name, with
// which headers: the command line beats the file, which beats the
// environment, and a per-signal endpoint beats the general one of its
// layer only.
func TestReplayPrecedence(t *testing.T) {
	for _, tc := range []struct {
		name string
		// file is the configuration, with ENV, FILE, FLAG and LOGS
		// standing for the endpoints of the receivers of those names;
		// empty for none.
		file string
		// flagRcv is the receiver --otlp-endpoint names, empty for none.
		flagRcv string
		// want is the receiver the detection must reach.
		want, wantService, wantHeader string
	}{
		{name: "environment alone", want: "ENV", wantService: "env-service", wantHeader: "env"},
		{
			name: "file beats environment",
			file: "otlp:\n  endpoint: FILE\n  headers: {x-layer: file}\nservice_name: file-service\n",
			want: "FILE", wantService: "file-service", wantHeader: "file",
		},
		{
			name:    "flag beats file",
			file:    "otlp:\n  endpoint: FILE\n  headers: {x-layer: file}\nservice_name: file-service\n",
			flagRcv: "FLAG",
			want:    "FLAG", wantService: "file-service", wantHeader: "file",
		},
		{
			name: "per-signal endpoint beats the file's general one",
			file: "otlp:\n  endpoint: FILE\n  logs:\n    endpoint: LOGS\n",
			want: "LOGS", wantService: "env-service", wantHeader: "env",
		},
		{
			name: "per-signal headers beat the file's general ones",
			file: "otlp:\n  endpoint: FILE\n  headers: {x-layer: file}\n  logs:\n    endpoint: LOGS\n    headers: {x-layer: logs}\n",
			want: "LOGS", wantService: "env-service", wantHeader: "logs",
		},
		{
			name:    "flag endpoint beats the file's per-signal one",
			file:    "otlp:\n  logs:\n    endpoint: LOGS\n",
			flagRcv: "FLAG",
			want:    "FLAG", wantService: "env-service", wantHeader: "env",
		},
		{
			name: "file's service.name attribute gives way to its service_name",
			file: "otlp:\n  endpoint: FILE\nresource_attributes: {service.name: attr, team: blue}\nservice_name: file-service\n",
			want: "FILE", wantService: "file-service", wantHeader: "env",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rcvs := map[string]*otlptest.Receiver{}
			for _, name := range []string{"ENV", "FILE", "FLAG", "LOGS"} {
				rcvs[name] = otlptest.Start(t)
			}
			t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", rcvs["ENV"].Endpoint)
			t.Setenv("OTEL_SERVICE_NAME", "env-service")
			t.Setenv("OTEL_EXPORTER_OTLP_HEADERS", "x-layer=env")
			dir := t.TempDir()
			args := []string{"replay"}
			if tc.file != "" {
				file := tc.file
				for name, rcv := range rcvs {
					file = strings.ReplaceAll(file, name, rcv.Endpoint)
				}
				args = append(args, "--config", writeFile(t, dir, "vigil.yaml", file))
			}
			if tc.flagRcv != "" {
				args = append(args, "--otlp-endpoint", rcvs[tc.flagRcv].Endpoint)
			}
			args = append(args, writeFile(t, dir, "events.jsonl", recording))

			var stdout, stderr bytes.Buffer
			require.Equal(t, 0, run(args, &stdout, &stderr), "stderr: %s", stderr.String())

			for name, rcv := range rcvs {
				if name != tc.want {
					require.Empty(t, rcv.Records(), "records at %s", name)
				}
			}
			recs := rcvs[tc.want].Records()
			require.Len(t, recs, 1)
			require.Equal(t, tc.wantService, serviceName(t, recs[0]))
			require.Equal(t, []string{tc.wantHeader}, slices.Compact(rcvs[tc.want].HeaderValues("x-layer")))
			if strings.Contains(tc.file, "team: blue") {
				team, _ := recs[0].Resource.Resource().Attributes().Get("team")
				require.Equal(t, "blue", team.Str())
			}
		})
	}
}

// TestReplayFileOutputs checks the file's local outputs and that a flag
// beats them: --jsonl over jsonl.
func TestReplayFileOutputs(t *testing.T) {
	dir := t.TempDir()
	fromFile, fromFlag := filepath.Join(dir, "file.jsonl"), filepath.Join(dir, "flag.jsonl")
	config := writeFile(t, dir, "vigil.yaml", "jsonl: "+fromFile+"\n")
	events := writeFile(t, dir, "events.jsonl", recording)
	t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "")

	var stdout, stderr bytes.Buffer
	require.Equal(t, 0, run([]string{"replay", "--config", config, events}, &stdout, &stderr), "stderr: %s", stderr.String())
	require.Len(t, readJSONL(t, fromFile), 1)

	require.NoError(t, os.Remove(fromFile))
	require.Equal(t, 0, run([]string{"replay", "--config", config, "--jsonl", fromFlag, events}, &stdout, &stderr), "stderr: %s", stderr.String())
	require.Len(t, readJSONL(t, fromFlag), 1)
	require.NoFileExists(t, fromFile)
}

// TestReplayTLS exports over mutual TLS with the certificates the file
// names.
func TestReplayTLS(t *testing.T) {
	certs := otlptest.NewCertificates(t)
	rcv := otlptest.StartTLS(t, certs.Server)
	require.True(t, strings.HasPrefix(rcv.Endpoint, "https://"))
	dir := t.TempDir()
	config := writeFile(t, dir, "vigil.yaml", "otlp:\n  endpoint: "+rcv.Endpoint+"\n  certificate: "+certs.CAFile+
		"\n  client_certificate: "+certs.CertFile+"\n  client_key: "+certs.KeyFile+"\n  compression: gzip\n  timeout: 5s\n")
	var stdout, stderr bytes.Buffer
	require.Equal(t, 0, run([]string{"replay", "--config", config, writeFile(t, dir, "events.jsonl", recording)}, &stdout, &stderr),
		"stderr: %s", stderr.String())
	require.Len(t, rcv.Records(), 1)
	require.Contains(t, rcv.HeaderValues("grpc-accept-encoding")[0], "gzip")
}

// TestConfigErrors checks that a bad file stops vigil with an error that
// says where the problem is.
func TestConfigErrors(t *testing.T) {
	dir := t.TempDir()
	events := writeFile(t, dir, "events.jsonl", recording)
	for _, tc := range []struct{ name, file, want string }{
		{"unknown field", "otlp:\n  endpiont: http://localhost:4317\n", ":2:3: field otlp.endpiont: unknown field, want one of "},
		{"missing certificate", "otlp:\n  certificate: /nonexistent/ca.pem\n",
			":2:16: field otlp.certificate: read CA certificate: open /nonexistent/ca.pem: no such file or directory\n"},
		{"bad span mode", "spans: many\n", `:1:8: field spans: want one of all, detections, none, got "many"` + "\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			config := writeFile(t, dir, "vigil.yaml", tc.file)
			var stdout, stderr bytes.Buffer
			require.Equal(t, 1, run([]string{"replay", "--config", config, events}, &stdout, &stderr))
			require.Contains(t, stderr.String(), "vigil: "+config+tc.want)
		})
	}
}

// TestRunPrecedence watches a command with the file naming a general
// endpoint and headers, and the endpoint and headers of traces, and the
// environment naming another endpoint and service: detections and metrics
// go to the file's endpoint with its headers, spans to its traces endpoint
// with theirs, all with the file's service name, and nothing to the
// environment's endpoint.
func TestRunPrecedence(t *testing.T) {
	vigil := buildVigil(t)
	zip, err := exec.LookPath("zip")
	require.NoError(t, err, "the zip package is needed")
	envRcv, fileRcv, tracesRcv := otlptest.Start(t), otlptest.Start(t), otlptest.Start(t)
	dir := t.TempDir()
	config := writeFile(t, dir, "vigil.yaml", "otlp:\n  endpoint: "+fileRcv.Endpoint+"\n  headers: {x-layer: file}\n"+
		"  traces:\n    endpoint: "+tracesRcv.Endpoint+"\n    headers: {x-layer: traces}\n"+
		"service_name: file-service\nsensor:\n  args_max: 1024\n")

	cmd := exec.Command(vigil, "run", "--config", config, "--", "sh", "-c", zip+" -q "+dir+"/x.zip /etc/hostname")
	cmd.Env = append(slices.DeleteFunc(os.Environ(), func(kv string) bool { return strings.HasPrefix(kv, "OTEL_") }),
		"OTEL_EXPORTER_OTLP_ENDPOINT="+envRcv.Endpoint, "OTEL_SERVICE_NAME=env-service", "OTEL_EXPORTER_OTLP_HEADERS=x-layer=env")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	require.NoError(t, cmd.Run(), "stderr: %s", stderr.String())

	require.Empty(t, envRcv.Metadata(), "nothing goes to the environment's endpoint")
	recs := fileRcv.Records()
	require.Len(t, recs, 1)
	require.Equal(t, "file-service", serviceName(t, recs[0]))
	require.NotEmpty(t, fileRcv.Metrics(), "metrics follow the general endpoint")
	require.Empty(t, fileRcv.Spans(), "spans go to the traces endpoint")
	require.NotEmpty(t, tracesRcv.Spans())
	require.Empty(t, tracesRcv.Records())
	require.Equal(t, []string{"file"}, slices.Compact(fileRcv.HeaderValues("x-layer")))
	require.Equal(t, []string{"traces"}, slices.Compact(tracesRcv.HeaderValues("x-layer")))
}
