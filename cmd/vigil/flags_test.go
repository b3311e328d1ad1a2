package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestSettingMistakes runs the real vigil with a mistake in each place a
// setting comes from: each is refused at start, in one line that names
// the flag, the file's field or the variable, and says what was wanted,
// the same for a flag as for its field; watching a command, vigil's
// status is 125, not one the command could have.
func TestSettingMistakes(t *testing.T) {
	vigil := buildVigil(t)
	dir := t.TempDir()
	config := func(name, yaml string) string { return writeFile(t, dir, name, yaml) }
	recipes := filepath.Join(dir, "recipes")
	require.NoError(t, os.Mkdir(recipes, 0o755))
	broken := writeFile(t, recipes, "broken.yaml", "recipes:\n  - name: a\n    match: {executable: {name: zip}\n  - name: b\n")

	for _, tc := range []struct {
		name string
		args []string
		env  []string
		want string
		code int
	}{
		{name: "endpoint flag without a scheme", args: []string{"run", "--otlp-endpoint", "collector:4317", "--", "true"},
			want: "--otlp-endpoint collector:4317: want a URL such as http://collector:4317 (plain text) or https://collector:4317 (TLS)", code: exitVigilFailed},
		{name: "endpoint field without a scheme", args: []string{"run", "--config", config("scheme.yaml", "otlp:\n  endpoint: collector:4317\n"), "--", "true"},
			want: dir + `/scheme.yaml:2:13: field otlp.endpoint: want a URL such as http://collector:4317 (plain text) or https://collector:4317 (TLS), got "collector:4317"`,
			code: exitVigilFailed},
		{name: "endpoint flag of another scheme", args: []string{"run", "--otlp-endpoint", "ftp://x"},
			want: "--otlp-endpoint ftp://x: want a URL such as http://x (plain text) or https://x (TLS)", code: 1},
		{name: "endpoint field of another scheme", args: []string{"run", "--config", config("ftp.yaml", "otlp:\n  endpoint: ftp://x\n")},
			want: dir + `/ftp.yaml:2:13: field otlp.endpoint: want a URL such as http://x (plain text) or https://x (TLS), got "ftp://x"`, code: 1},
		{name: "endpoint variable of another scheme", args: []string{"run", "--", "true"}, env: []string{"OTEL_EXPORTER_OTLP_ENDPOINT=ftp://x"},
			want: `OTLP logs settings: OTEL_EXPORTER_OTLP_ENDPOINT="ftp://x": want a URL such as http://x (plain text) or https://x (TLS), or host:port`,
			code: exitVigilFailed},
		{name: "wake-up interval flag", args: []string{"run", "--wakeup-interval", "2m", "--", "true"},
			want: "--wakeup-interval 2m: want more than 0s, at most 1m0s", code: exitVigilFailed},
		{name: "wake-up interval field", args: []string{"run", "--config", config("wakeup.yaml", "sensor:\n  wakeup_interval: 2m\n"), "--", "true"},
			want: dir + `/wakeup.yaml:2:20: field sensor.wakeup_interval: want more than 0s, at most 1m0s, got "2m"`, code: exitVigilFailed},
		{name: "recipes flag naming nothing", args: []string{"run", "--recipes", "/a/typo", "--", "true"},
			want: "--recipes /a/typo: no such file or directory", code: exitVigilFailed},
		{name: "recipes flag naming nothing, watching the machine", args: []string{"run", "--recipes", "/a/typo"},
			want: "--recipes /a/typo: no such file or directory", code: 1},
		{name: "recipes field naming nothing", args: []string{"run", "--config", config("recipes.yaml", "recipes:\n  - /a/typo\n")},
			want: dir + `/recipes.yaml:2:5: field recipes[0]: no such file or directory, got "/a/typo"`, code: 1},
		{name: "configuration syntax", args: []string{"run", "--config", config("syntax.yaml", "jsonl: a\notlp:\n  endpoint: http://x:4317\n   timeout: 5s\n")},
			want: dir + "/syntax.yaml:4:11: mapping values are not allowed in this context", code: 1},
		{name: "endpoint flag with a password", args: []string{"run", "--otlp-endpoint", "ftp://bob:s3cr3tpassw0rd@x"},
			want: "--otlp-endpoint ftp://bob:[REDACTED]@x: want a URL such as http://x (plain text) or https://x (TLS)", code: 1},
		{name: "endpoint field with a password", args: []string{"run", "--config", config("password.yaml", "otlp:\n  endpoint: ftp://bob:s3cr3tpassw0rd@x\n")},
			want: dir + `/password.yaml:2:13: field otlp.endpoint: want a URL such as http://x (plain text) or https://x (TLS), got "ftp://bob:[REDACTED]@x"`, code: 1},
		{name: "stop timeout flag of nothing", args: []string{"run", "--stop-timeout", "0s", "--", "true"},
			want: "--stop-timeout 0s: want more than 0s", code: exitVigilFailed},
		{name: "health address flag without a port", args: []string{"run", "--health-addr", "bogus"},
			want: "--health-addr bogus: want host:port, such as 127.0.0.1:9464", code: 1},
		{name: "health address field without a port", args: []string{"run", "--config", config("health.yaml", "health_address: bogus\n")},
			want: dir + `/health.yaml:1:17: field health_address: want host:port, such as 127.0.0.1:9464, got "bogus"`, code: 1},
		{name: "log level flag", args: []string{"run", "--log-level", "loud"},
			want: "--log-level loud: want one of debug, info, warn, error", code: 1},
		{name: "log level field", args: []string{"replay", "--config", config("level.yaml", "log_level: loud\n"), "x"},
			want: dir + `/level.yaml:1:12: field log_level: want one of debug, info, warn, error, got "loud"`, code: 1},
		{name: "span mode", args: []string{"replay", "--spans", "some", "x"}, want: "--spans some: want one of all, detections, none", code: 1},
		{name: "ring buffer size", args: []string{"run", "--ring-buffer-size", "1000"},
			want: "--ring-buffer-size 1000: want a power of two of at least 4096 bytes", code: 1},
		{name: "args max", args: []string{"run", "--args-max", "lots", "--", "true"}, want: "--args-max lots: want a whole number", code: exitVigilFailed},
		{name: "report importance", args: []string{"report", "--fail-on", "urgent", "x"}, want: "--fail-on urgent: want one of low, medium, high, critical", code: 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cmd := exec.Command(vigil, tc.args...)
			cmd.Env = append(os.Environ(), tc.env...)
			var stdout, stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			require.Equal(t, tc.code, exitStatus(t, cmd.Run()), "stderr: %s", stderr.String())
			require.Equal(t, "vigil: "+tc.want+"\n", stderr.String())
			require.Empty(t, stdout.String())
		})
	}

	// A broken recipe file is reported at its line and column, and the
	// other recipes still load.
	out, err := exec.Command(vigil, "recipes", "validate", broken).CombinedOutput()
	require.Equal(t, 1, exitStatus(t, err))
	require.Equal(t, broken+":4:3: did not find expected ',' or '}' (while parsing a flow mapping from line 3, column 12)\n"+
		broken+": 0 recipes valid, 1 errors\n", string(out))
	out, err = exec.Command(vigil, "recipes", "list", "--recipes", recipes).CombinedOutput()
	require.NoError(t, err)
	require.True(t, strings.HasPrefix(string(out), "vigil: recipe error: "+broken+":4:3: did not find expected"), "%s", out)
}
