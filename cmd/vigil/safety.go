package main

import (
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"

	"github.com/spf13/pflag"

	"github.com/vigil-otel/vigil/internal/safefile"
	"github.com/vigil-otel/vigil/recipe"
)

// vigil runs as root on machines other users share: the files it writes
// and the recipes it reads must be out of their reach (package safefile).

// createOutput opens the file at path that flag (--jsonl, --record, a
// report) names, for writing, as package safefile does.
func createOutput(flag, path string, o safefile.Options) (*os.File, error) {
	f, err := safefile.Current(os.Getenv).Create(path, o)
	if err != nil {
		return nil, fileError(flag, err)
	}
	return f, nil
}

// fileError says which flag named the file err is about: "--jsonl
// /tmp/x: refusing: ...", or "--jsonl: open /x/y: ..." when the error is
// not a refusal, which names its path already.
func fileError(flag string, err error) error {
	var refused *safefile.Error
	if errors.As(err, &refused) {
		return fmt.Errorf("%s %w", flag, err)
	}
	return fmt.Errorf("%s: %w", flag, err)
}

// untrustedRecipesFlag adds --allow-untrusted-recipes to f.
func untrustedRecipesFlag(f *pflag.FlagSet, allow *bool) {
	f.BoolVar(allow, "allow-untrusted-recipes", false, "load --recipes files and directories that a user other than vigil's own (or root) could change; refused otherwise")
}

// loadRecipes loads the built-in catalog and the recipes of dirs on top.
// Unless allowUntrusted, it first refuses dirs, and the files in them,
// that a user vigil does not trust could change (safefile.Policy.Check):
// such a user could otherwise turn detections off, or run recipes of
// theirs as root. Broken recipe files are logged and left out; broken
// counts those errors.
func loadRecipes(dirs []string, allowUntrusted bool) (recipes []*recipe.Recipe, broken int, err error) {
	if !allowUntrusted {
		if err := checkRecipes(safefile.Current(os.Getenv), dirs); err != nil {
			return nil, 0, err
		}
	}
	recipes, errs := recipe.LoadCatalog(dirs)
	for _, err := range errs {
		slog.Error("recipe error", "error", err)
	}
	return recipes, len(errs), nil
}

// checkRecipes checks each of dirs, and each recipe file recipe.LoadPath
// would read of it, with policy. A path that does not exist has nothing
// to trust: one that went away since the start is the loader's to report.
func checkRecipes(policy safefile.Policy, dirs []string) error {
	check := func(path string) error {
		err := policy.Check(path)
		var refused *safefile.Error
		switch {
		case errors.As(err, &refused):
			return fmt.Errorf("%w; --allow-untrusted-recipes loads it anyway", fileError("--recipes", err))
		case err != nil && !errors.Is(err, fs.ErrNotExist):
			return fileError("--recipes", err)
		}
		return nil
	}
	for _, dir := range dirs {
		if err := check(dir); err != nil {
			return err
		}
		files, err := recipe.Files(dir)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return fileError("--recipes", err)
		}
		for _, file := range files {
			if err := check(file); err != nil {
				return err
			}
		}
	}
	return nil
}
