package recipe

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestPagesAreCurrent fails when docs/recipes differs from what the
// built-in catalog generates: run `go run ./cmd/vigil recipes docs`.
func TestPagesAreCurrent(t *testing.T) {
	recipes, errs := Builtin()
	require.Empty(t, errs)
	dir := filepath.Join("..", "docs", "recipes")
	want := map[string]bool{}
	for _, r := range recipes {
		var b bytes.Buffer
		require.NoError(t, WritePage(&b, r))
		got, err := os.ReadFile(filepath.Join(dir, r.Name+".md"))
		require.NoError(t, err, "missing page; run: go run ./cmd/vigil recipes docs")
		require.Equal(t, b.String(), string(got), "%s.md is stale; run: go run ./cmd/vigil recipes docs", r.Name)
		want[r.Name+".md"] = true
	}
	pages, err := filepath.Glob(filepath.Join(dir, "*.md"))
	require.NoError(t, err)
	for _, p := range pages {
		require.True(t, want[filepath.Base(p)], "%s belongs to no recipe; run: go run ./cmd/vigil recipes docs", p)
	}
}

func TestPageHasEverySection(t *testing.T) {
	recipes, _ := Builtin()
	var b bytes.Buffer
	for _, r := range recipes {
		if r.Name == "exec_example" {
			require.NoError(t, WritePage(&b, r))
		}
	}
	page := b.String()
	for _, part := range []string{
		"# exec_example\n", "## Information", "| Description | Tool execution example |",
		"[Execution (TA0002)](https://attack.mitre.org/tactics/TA0002/)",
		"[Command and Scripting Interpreter (T1059)](https://attack.mitre.org/techniques/T1059/)",
		"| Importance | low |", "## How the detection works", "## What it means for a CI/CD pipeline", "## Recommended actions\n\n- ",
	} {
		require.True(t, strings.Contains(page, part), "page lacks %q", part)
	}
}
