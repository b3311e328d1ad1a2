package recipe

import (
	"cmp"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
)

// BuiltinRuleset names the catalog that ships inside vigil.
const BuiltinRuleset = "vigil"

//go:embed catalog/*.yaml
var builtinFiles embed.FS

// filePattern names the recipe files of a directory.
const filePattern = "*.yaml"

// Builtin loads the catalog embedded in vigil.
func Builtin() ([]*Recipe, []error) {
	sub, err := fs.Sub(builtinFiles, "catalog")
	if err != nil {
		return nil, []error{fmt.Errorf("open built-in catalog: %w", err)}
	}
	recipes, errs := LoadFS(sub, BuiltinRuleset)
	for _, r := range recipes {
		if r.Reference == "" {
			r.Reference = ReferenceURL(r.Name)
		}
	}
	return recipes, errs
}

// LoadFS loads every .yaml file at the top of fsys. A broken file or recipe
// is reported and left out; the rest load. A name defined twice keeps its
// first definition.
func LoadFS(fsys fs.FS, ruleset string) ([]*Recipe, []error) {
	files, err := fs.Glob(fsys, filePattern)
	if err != nil {
		return nil, []error{fmt.Errorf("list recipe files: %w", err)}
	}
	var (
		recipes []*Recipe
		errs    []error
		defined = make(map[string]*Recipe)
	)
	for _, file := range files {
		data, err := fs.ReadFile(fsys, file)
		if err != nil {
			errs = append(errs, fmt.Errorf("read recipe file %s: %w", file, err))
			continue
		}
		parsed, perrs := Parse(path.Join(ruleset, file), data, ruleset)
		errs = append(errs, perrs...)
		var derrs []error
		recipes, derrs = keepFirst(recipes, parsed, defined)
		errs = append(errs, derrs...)
	}
	return recipes, errs
}

// keepFirst appends to kept each recipe of parsed whose name is not in
// defined yet, and adds it there; a name defined again is reported and
// left out, so that one catalog never holds two recipes of a name.
func keepFirst(kept, parsed []*Recipe, defined map[string]*Recipe) ([]*Recipe, []error) {
	var errs []error
	for _, r := range parsed {
		if first, ok := defined[r.Name]; ok {
			errs = append(errs, fmt.Errorf("%s: recipe %q is already defined at %s", r.Source, r.Name, first.Source))
			continue
		}
		defined[r.Name] = r
		kept = append(kept, r)
	}
	return kept, errs
}

// Overlay returns base with the recipes of top added, a recipe of top
// replacing the one of base with its name; the replacing recipe's
// Overrides names the ruleset the name first came from.
func Overlay(base, top []*Recipe) []*Recipe {
	out := make([]*Recipe, 0, len(base)+len(top))
	replacing := make(map[string]*Recipe, len(top))
	for _, r := range top {
		replacing[r.Name] = r
	}
	for _, r := range base {
		if t, ok := replacing[r.Name]; ok {
			t.Overrides = cmp.Or(r.Overrides, r.Ruleset)
			continue
		}
		out = append(out, r)
	}
	return append(out, top...)
}

// LoadPath loads one recipe file, or every .yaml file of a directory; the
// ruleset is named after the directory. A name defined twice keeps its
// first definition.
func LoadPath(path string) ([]*Recipe, []error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, []error{fmt.Errorf("load recipes: %w", err)}
	}
	if st.IsDir() {
		return LoadFS(os.DirFS(path), path)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, []error{fmt.Errorf("load recipes: %w", err)}
	}
	parsed, errs := Parse(path, data, filepath.Dir(path))
	recipes, derrs := keepFirst(nil, parsed, make(map[string]*Recipe))
	return recipes, append(errs, derrs...)
}

// Files returns the files LoadPath reads for path: path itself when it
// is a file, the recipe files at the top of it when it is a directory.
func Files(path string) ([]string, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("load recipes: %w", err)
	}
	if !st.IsDir() {
		return []string{path}, nil
	}
	names, err := fs.Glob(os.DirFS(path), filePattern)
	if err != nil {
		return nil, fmt.Errorf("list recipe files: %w", err)
	}
	files := make([]string, len(names))
	for i, name := range names {
		files[i] = filepath.Join(path, name)
	}
	return files, nil
}

// CheckPath checks a path given for recipes (--recipes, the
// configuration file's recipes): a recipe file, or a directory of them,
// that is there; what it holds is the loader's to judge.
func CheckPath(path string) error {
	_, err := os.Stat(path)
	if pe, ok := errors.AsType[*fs.PathError](err); ok {
		return pe.Err
	}
	return err
}

// LoadCatalog loads the built-in catalog and, on top of it, the recipes
// of each of dirs in turn. What is broken is reported and left out; the
// rest loads.
func LoadCatalog(dirs []string) ([]*Recipe, []error) {
	recipes, errs := Builtin()
	for _, dir := range dirs {
		extra, more := LoadPath(dir)
		errs = append(errs, more...)
		recipes = Overlay(recipes, extra)
	}
	return recipes, append(errs, checkSupersedes(recipes)...)
}

// checkSupersedes reports each name in a recipe's supersedes that is not
// a recipe of the catalog, or is the recipe itself: most likely a typo,
// which would otherwise leave two detections where one was meant.
func checkSupersedes(recipes []*Recipe) []error {
	names := make(map[string]bool, len(recipes))
	sequences := make(map[string]bool)
	for _, r := range recipes {
		names[r.Name] = true
		sequences[r.Name] = r.Sequence != nil
	}
	var errs []error
	for _, r := range recipes {
		for _, name := range r.Supersedes {
			switch {
			case name == r.Name:
				errs = append(errs, fmt.Errorf("%s: recipe %q: supersedes itself; that relation is ignored", r.Source, r.Name))
			case !names[name]:
				errs = append(errs, fmt.Errorf("%s: recipe %q: supersedes %q, which is not a recipe of the catalog; that relation is ignored", r.Source, r.Name, name))
			case sequences[name]:
				errs = append(errs, fmt.Errorf("%s: recipe %q: supersedes %q, a sequence recipe, which nothing supersedes; that relation is ignored", r.Source, r.Name, name))
			}
		}
	}
	return errs
}
