// Package collectorconfig_test checks the Collector configurations of
// collector-config/ with the Collector distribution that builder.yaml
// describes: each one validates, and the gateway routes what the real vigil
// sends (gateway_test.go).
package collectorconfig_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/vigil-otel/vigil/internal/otelcoltest"
)

// overlays returns the files that are added to another configuration
// rather than run alone, each with the configurations it is added to.
func overlays() map[string][]string {
	return map[string][]string{
		"agent-ha.yaml": {"agent.yaml", "k8s-agent.yaml"},
	}
}

// configFiles lists the Collector configurations: every YAML file of this
// folder and of examples/, but the builder's manifest and the overlays.
func configFiles(t *testing.T) []string {
	t.Helper()
	var files []string
	for _, pattern := range []string{"*.yaml", "*.yml", "examples/*.yaml", "examples/*.yml"} {
		matches, err := filepath.Glob(pattern)
		require.NoError(t, err)
		files = append(files, matches...)
	}
	files = slices.DeleteFunc(files, func(f string) bool {
		_, overlay := overlays()[f]
		return f == "builder.yaml" || overlay
	})
	slices.Sort(files)
	return files
}

// envRef is a reference to an environment variable in a Collector
// configuration: ${env:NAME}, ${NAME}, either with :-default.
func envRef() *regexp.Regexp {
	return regexp.MustCompile(`\$\{(?:env:)?([A-Za-z_][A-Za-z0-9_]*)(:-[^}]*)?\}`)
}

// configEnv is the environment that the Collector validates the given
// files in: the test's environment without any variable that the files
// name, so that their defaults are what gets checked, and a plausible value
// for each variable that a file uses without a default, as its user would
// have to set.
func configEnv(t *testing.T, files ...string) []string {
	t.Helper()
	named := map[string]bool{}
	values := map[string]string{}
	for _, f := range files {
		data, err := os.ReadFile(f)
		require.NoError(t, err)
		for _, m := range envRef().FindAllStringSubmatch(string(data), -1) {
			name := m[1]
			named[name] = true
			if m[2] == "" {
				values[name] = testValue(t, name)
			}
		}
	}
	env := slices.DeleteFunc(os.Environ(), func(kv string) bool {
		name, _, _ := strings.Cut(kv, "=")
		return named[name]
	})
	for name, v := range values {
		env = append(env, name+"="+v)
	}
	return env
}

// testValue is a value of the kind that a variable's name asks for.
func testValue(t *testing.T, name string) string {
	upper := strings.ToUpper(name)
	switch {
	case strings.Contains(upper, "ENDPOINT") || strings.Contains(upper, "URL"):
		return "https://backend.example.com:4318"
	case strings.Contains(upper, "KEY") || strings.Contains(upper, "TOKEN") ||
		strings.Contains(upper, "PASSWORD") || strings.Contains(upper, "SECRET"):
		return "test-credential"
	case strings.Contains(upper, "DIR") || strings.Contains(upper, "PATH") || strings.Contains(upper, "FILE"):
		return t.TempDir()
	case strings.Contains(upper, "INSECURE"):
		return "true"
	}
	return "test"
}

// validate runs otelcol-vigil validate on the merged files.
func validate(t *testing.T, bin string, files ...string) (string, error) {
	t.Helper()
	args := []string{"validate"}
	for _, f := range files {
		args = append(args, "--config", f)
	}
	cmd := exec.Command(bin, args...)
	cmd.Env = configEnv(t, files...)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// TestConfigsValidate runs `otelcol-vigil validate` on every configuration,
// so that each names only components the distribution has, with settings
// they accept.
func TestConfigsValidate(t *testing.T) {
	bin := otelcoltest.Build(t)
	files := configFiles(t)
	require.NotEmpty(t, files)

	for _, f := range files {
		t.Run(f, func(t *testing.T) {
			out, err := validate(t, bin, f)
			require.NoError(t, err, "otelcol-vigil validate --config %s:\n%s", f, out)
		})
	}

	for overlay, bases := range overlays() {
		for _, base := range bases {
			t.Run(base+" with "+overlay, func(t *testing.T) {
				out, err := validate(t, bin, base, overlay)
				require.NoError(t, err, "%s", out)
			})
		}
	}

	t.Run("gateway.yaml with the end-to-end test's file exporters", func(t *testing.T) {
		files := []string{"gateway.yaml", filepath.Join("testdata", "gateway-files.yaml")}
		out, err := validate(t, bin, files...)
		require.NoError(t, err, "%s", out)
	})

	t.Run("a configuration naming a missing component fails", func(t *testing.T) {
		bad := filepath.Join(t.TempDir(), "bad.yaml")
		require.NoError(t, os.WriteFile(bad, []byte(`receivers:
  otlp:
    protocols: {grpc: {endpoint: 127.0.0.1:4317}}
exporters:
  no_such_exporter: {}
service:
  pipelines:
    logs: {receivers: [otlp], exporters: [no_such_exporter]}
`), 0o600))
		out, err := validate(t, bin, bad)
		require.Error(t, err, "validate passed a configuration it cannot run:\n%s", out)
		require.Contains(t, out, "no_such_exporter")
	})
}
