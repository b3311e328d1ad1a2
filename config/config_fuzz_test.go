package config

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"
)

// FuzzParse: any configuration file is read or refused without a panic;
// each problem is an *Error that names the file and, but for some syntax
// errors, the line; and a file that is accepted has redaction rules that
// compile.
func FuzzParse(f *testing.F) {
	example, err := os.ReadFile("testdata/vigil.yaml")
	require.NoError(f, err)
	f.Add(example)
	for _, s := range []string{
		"",
		"# nothing\n",
		"otlp:\n  endpoint: [\n",
		"otlp:\n  client_key: /x.pem\n",
		"otlp:\n  certificate: testdata/vigil.yaml\n  insecure: true\n",
		"otlp:\n  logs: {endpoint: 'collector:4317', timeout: 0s, compression: zstd, headers: {'': x}}\n",
		"sensor: {args_max: -1, ring_buffer_size: 1000, wakeup_interval: 2m, env: [A=B]}\n",
		"a: &a {jsonl: x}\nredaction:\n  rules: [{name: r, flags: ['--k'], programs: [x]}, *a]\n  disable: [jwt, jwt]\n",
		"log_level: loud\nspans: some\nstop_timeout: -1s\nspool_size: 0x10\nresource_attributes: {'': x}\n",
		"state_dir: ~\nrecipes: [/etc/vigil/recipes, [x]]\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var doc yaml.Node
		syntax := yaml.Unmarshal(data, &doc) != nil
		if !syntax && namesHazard(&doc) {
			return // a file vigil would read forever: the fuzzer's, not a user's
		}
		file, err := Parse("fuzz.yaml", data)
		if err == nil {
			require.Equal(t, "fuzz.yaml", file.Path)
			_, err := file.Redaction.Redactor()
			require.NoError(t, err, "accepted redaction rules that do not compile")
			return
		}
		errs := []error{err}
		if joined, ok := err.(interface{ Unwrap() []error }); ok {
			errs = joined.Unwrap()
		}
		for _, err := range errs {
			var e *Error
			require.True(t, errors.As(err, &e), "not an *Error: %v", err)
			require.Equal(t, "fuzz.yaml", e.File)
			// go.yaml.in/yaml/v3 does not place every syntax error.
			if !syntax {
				require.Positive(t, e.Line, "no line: %v", err)
			}
		}
	})
}

// namesHazard says whether a value of doc names a file that reading
// would not end or would disturb: a device, a fifo, what /proc and /sys
// hold.
func namesHazard(n *yaml.Node) bool {
	if n.Kind == yaml.ScalarNode && n.Value != "" {
		if fi, err := os.Stat(n.Value); err == nil {
			path, _ := filepath.EvalSymlinks(n.Value)
			path, _ = filepath.Abs(path)
			if !fi.Mode().IsRegular() && !fi.IsDir() || fi.Size() > 1<<20 || strings.HasPrefix(path, "/proc/") || strings.HasPrefix(path, "/sys/") {
				return true
			}
		}
	}
	for _, c := range n.Content {
		if namesHazard(c) {
			return true
		}
	}
	return false
}
