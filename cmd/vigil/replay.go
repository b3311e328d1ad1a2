package main

import (
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"

	"github.com/vigil-otel/vigil/pipeline"
)

func newReplayCommand(stdout, stderr io.Writer) *cobra.Command {
	var (
		out        output
		dirs       []string
		untrusted  bool
		configPath string
	)
	cmd := &cobra.Command{
		Use:   "replay EVENTS.jsonl",
		Short: "Run recorded events (vigil run --record) through the recipes, without root",
		Long: `vigil replay reads a recording that vigil run --record wrote, rebuilds the
process table from its events, matches every exec against the recipes,
and reports detections as vigil run does. It needs no privileges: use it
to try recipes on what a real job did.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			file, err := loadConfig(cmd, configPath)
			if err != nil {
				return err
			}
			out.apply(cmd.Flags(), file)
			applyRecipes(cmd.Flags(), file, &dirs)
			f, err := os.Open(args[0])
			if err != nil {
				return fmt.Errorf("open recording: %w", err)
			}
			defer f.Close()
			recipes, _, err := loadRecipes(dirs, untrusted)
			if err != nil {
				return err
			}
			cfg, closeOutput, err := out.pipelineConfig(stdout, stderr)
			if err != nil {
				return err
			}
			defer closeOutput()
			cfg.Recipes = recipes
			sum, err := pipeline.Replay(cmd.Context(), cfg, f)
			printSummary(stderr, sum)
			return err
		},
	}
	configFlag(cmd, &configPath)
	out.flags(cmd.Flags())
	recipesFlag(cmd.Flags(), &dirs, "also load the recipe files of `DIR` (repeatable); they override built-ins of the same name")
	untrustedRecipesFlag(cmd.Flags(), &untrusted)
	return cmd
}
