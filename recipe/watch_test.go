package recipe

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// configMapRecipe is a recipe file as a ConfigMap would hold it.
func configMapRecipe(name string) string {
	return `recipes:
  - name: ` + name + `
    description: test recipe
    tactic: {id: TA0002, name: Execution}
    technique: {id: T1059, name: Command and Scripting Interpreter}
    importance: medium
    match: {executable: {name: shipit}}
`
}

// loaded returns the names of the recipes loaded from dir, beside the
// built-in ones.
func loaded(t *testing.T, dir string) []string {
	t.Helper()
	recipes, errs := LoadCatalog([]string{dir})
	require.Empty(t, errs)
	out := make([]string, len(recipes))
	for i, r := range recipes {
		out[i] = r.Name
	}
	return out
}

// TestWatcherSeesAConfigMapUpdate updates a recipe folder the way the
// kubelet updates a mounted ConfigMap: the files are links through ..data
// to a folder of the version, and an update writes a new folder and swaps
// ..data to it in one rename. The watcher reports it, and the catalog
// loaded then is the new one: recipes from a ConfigMap reload without a
// restart.
func TestWatcherSeesAConfigMapUpdate(t *testing.T) {
	dir := t.TempDir()
	write := func(version, recipe string) {
		require.NoError(t, os.Mkdir(filepath.Join(dir, version), 0o755))
		require.NoError(t, os.WriteFile(filepath.Join(dir, version, "ours.yaml"), []byte(configMapRecipe(recipe)), 0o644))
	}
	write("..2026_12_02_09_00_00.1", "our_first_recipe")
	require.NoError(t, os.Symlink("..2026_12_02_09_00_00.1", filepath.Join(dir, "..data")))
	require.NoError(t, os.Symlink("..data/ours.yaml", filepath.Join(dir, "ours.yaml")))
	require.Contains(t, loaded(t, dir), "our_first_recipe")

	w, err := NewWatcher([]string{dir})
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	changed := make(chan struct{}, 1)
	go w.Run(ctx, func() {
		select {
		case changed <- struct{}{}:
		default:
		}
	})

	// The kubelet's atomic update.
	write("..2026_12_02_09_05_00.2", "our_second_recipe")
	require.NoError(t, os.Symlink("..2026_12_02_09_05_00.2", filepath.Join(dir, "..data_tmp")))
	require.NoError(t, os.Rename(filepath.Join(dir, "..data_tmp"), filepath.Join(dir, "..data")))
	require.NoError(t, os.RemoveAll(filepath.Join(dir, "..2026_12_02_09_00_00.1")))

	select {
	case <-changed:
	case <-time.After(10 * time.Second):
		t.Fatal("the update was not seen")
	}
	now := loaded(t, dir)
	require.Contains(t, now, "our_second_recipe")
	require.False(t, slices.Contains(now, "our_first_recipe"))
}
