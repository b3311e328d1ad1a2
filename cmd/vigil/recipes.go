package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/vigil-otel/vigil/recipe"
	"github.com/vigil-otel/vigil/sensor"
)

func newRecipesCommand(stdout io.Writer) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "recipes",
		Short: "List, show, validate and test detection recipes",
	}
	var dirs []string
	recipesFlag(cmd.PersistentFlags(), &dirs, "also load the recipe files of `DIR` (repeatable); they override built-ins of the same name")

	cmd.AddCommand(&cobra.Command{
		Use:   "list",
		Short: "List the recipes: name, importance, tactic, technique, enabled",
		Args:  cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			recipes, err := loadCatalog(dirs)
			if err != nil {
				return err
			}
			// What this kernel cannot give; nothing is known without BTF.
			var unavailable []sensor.Fact
			if f, err := sensor.ProbeFeatures(); err == nil {
				unavailable = f.Unavailable()
			}
			tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "NAME\tIMPORTANCE\tTACTIC\tTECHNIQUE\tENABLED\tDEGRADED HERE")
			for _, r := range recipes {
				degraded := "-"
				for _, fact := range unavailable {
					if r.Uses(fact.Name) {
						degraded = "no " + fact.Name
					}
				}
				fmt.Fprintf(tw, "%s\t%s\t%s %s\t%s\t%v\t%s\n", r.Name, r.Importance, r.Tactic.ID, r.Tactic.Name, r.TechniqueLabel(), yesNo(r.Enabled), degraded)
			}
			return tw.Flush()
		},
	})
	cmd.AddCommand(&cobra.Command{
		Use:   "show NAME",
		Short: "Print a recipe's page",
		Args:  cobra.ExactArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			recipes, err := loadCatalog(dirs)
			if err != nil {
				return err
			}
			i := slices.IndexFunc(recipes, func(r *recipe.Recipe) bool { return r.Name == args[0] })
			if i < 0 {
				return fmt.Errorf("no recipe named %q (see vigil recipes list)", args[0])
			}
			return recipe.WritePage(stdout, recipes[i])
		},
	})
	cmd.AddCommand(&cobra.Command{
		Use:   "validate FILE|DIR...",
		Short: "Check recipe files; exit status 1 when any has an error",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			var failed bool
			for _, arg := range args {
				recipes, errs := loadPath(arg)
				for _, err := range errs {
					fmt.Fprintln(stdout, err)
				}
				failed = failed || len(errs) > 0
				fmt.Fprintf(stdout, "%s: %d recipes valid, %d errors\n", arg, len(recipes), len(errs))
			}
			if failed {
				return &exitError{code: 1}
			}
			return nil
		},
	})
	cmd.AddCommand(&cobra.Command{
		Use:   "test FILE|DIR...",
		Short: "Run the recipes' own tests; exit status 1 when any fails",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			var passed, failed int
			for _, arg := range args {
				recipes, errs := loadPath(arg)
				for _, err := range errs {
					fmt.Fprintln(stdout, err)
					failed++
				}
				results, err := recipe.RunFixtures(recipes)
				if err != nil {
					fmt.Fprintln(stdout, err)
					failed++
				}
				for _, res := range results {
					if res.Passed() {
						passed++
						continue
					}
					failed++
					want := "fire"
					if !res.Fixture.Expect {
						want = "not fire"
					}
					fmt.Fprintf(stdout, "FAIL %s: %s:%d: test %q: the recipe should %s\n",
						res.Recipe.Name, strings.SplitN(res.Recipe.Source, ":", 2)[0], res.Fixture.Line, res.Fixture.Name, want)
				}
			}
			fmt.Fprintf(stdout, "%d passed, %d failed\n", passed, failed)
			if failed > 0 {
				return &exitError{code: 1}
			}
			return nil
		},
	})
	var out string
	docs := &cobra.Command{
		Use:   "docs",
		Short: "Write the page of every built-in recipe into a folder",
		Args:  cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			recipes, errs := recipe.Builtin()
			if len(errs) > 0 {
				return errors.Join(errs...)
			}
			return recipe.WritePages(out, recipes)
		},
	}
	docs.Flags().StringVar(&out, "out", "docs/recipes", "the `DIR` to write NAME.md pages to; pages of recipes that no longer exist are removed")
	cmd.AddCommand(docs)
	return cmd
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

// loadPath loads one recipe file, or every .yaml file of a directory.
func loadPath(path string) ([]*recipe.Recipe, []error) {
	return recipe.LoadPath(path)
}

// loadCatalog loads the built-in catalog and the recipes of dirs on top.
// Errors are printed; only a catalog with nothing in it is an error.
func loadCatalog(dirs []string) ([]*recipe.Recipe, error) {
	recipes, errs := recipe.LoadCatalog(dirs)
	for _, err := range errs {
		fmt.Fprintln(os.Stderr, "vigil: recipe error:", err)
	}
	if len(recipes) == 0 {
		return nil, errors.New("no recipes loaded")
	}
	return recipes, nil
}
