package otlptest

import (
	"os"
	"strings"
	"testing"
)

// ClearOTelEnv unsets every OTEL_* variable until the test ends, so that
// what the test configures is all that decides where and how vigil
// exports, whatever the machine running the tests has set.
func ClearOTelEnv(t testing.TB) {
	t.Helper()
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		if !strings.HasPrefix(name, "OTEL_") {
			continue
		}
		t.Setenv(name, "") // restores the value when the test ends
		if err := os.Unsetenv(name); err != nil {
			t.Fatalf("unset %s: %v", name, err)
		}
	}
}
