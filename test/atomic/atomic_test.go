package atomic

import (
	"context"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/vigil-otel/vigil/internal/vigiltest"
)

// update makes TestAtomicCoverage write docs/coverage.md from its run.
var update = flag.Bool("update", false, "write docs/coverage.md from this run")

// minCoverage is the share of the tests that must stay covered: a few
// points under docs/coverage.md's figure, for the time-outs of a loaded
// machine. Raise it with the coverage.
const minCoverage = 86.0

// TestAtomicCoverage runs every Linux test of Atomic Red Team in the
// sandbox under the real vigil and scores the catalog's coverage by
// technique. It fails when a test cannot be run or the coverage falls
// below minCoverage; the report is in the test's log, and in
// $VIGIL_ATOMIC_REPORT when set. $VIGIL_ATOMIC_TECHNIQUES (T1053,T1059.004)
// runs only the tests of those techniques and their sub-techniques, for
// working on a recipe; the coverage floor then does not apply.
func TestAtomicCoverage(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("vigil loads eBPF programs and the sandbox needs namespaces: run as root")
	}
	m, err := Load("atomics.json")
	require.NoError(t, err)
	sandbox, err := filepath.Abs("sandbox.sh")
	require.NoError(t, err)
	r := &Runner{Vigil: vigiltest.Build(t, t.TempDir()), Sandbox: sandbox, Dir: t.TempDir(), Timeout: 15 * time.Second}

	tests := m.Tests
	only := os.Getenv("VIGIL_ATOMIC_TECHNIQUES")
	if only != "" {
		tests = slices.DeleteFunc(slices.Clone(tests), func(t Test) bool {
			return !slices.ContainsFunc(strings.Split(only, ","), func(id string) bool {
				id = strings.TrimSpace(id)
				return t.Technique == id || strings.HasPrefix(t.Technique, id+".")
			})
		})
		require.NotEmpty(t, tests, "no test of %s", only)
	}
	results := r.RunAll(context.Background(), tests, 2)
	for _, res := range results {
		if res.Err != nil {
			t.Errorf("%s %s: %v", res.Test.ID(), res.Test.Name, res.Err)
		}
	}
	apart, err := LoadApart("apart.yaml")
	require.NoError(t, err)
	for id := range apart {
		require.True(t, slices.ContainsFunc(m.Tests, func(t Test) bool { return t.ID() == id }), "apart.yaml names %s, no test", id)
	}
	cov := Score(results, apart)
	t.Logf("%d of %d tests covered (%.1f %%), %d with the exact technique", cov.Parent, cov.Tests, cov.Percent(), cov.Exact)

	out := os.Getenv("VIGIL_ATOMIC_REPORT")
	if *update && only == "" {
		out = filepath.Join("..", "..", "docs", "coverage.md")
	}
	if out != "" {
		f, err := os.Create(out)
		require.NoError(t, err)
		require.NoError(t, cov.WriteMarkdown(f, m))
		require.NoError(t, f.Close())
	}
	if only == "" {
		require.GreaterOrEqual(t, cov.Percent(), minCoverage, "coverage fell")
	}
}
