package main

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/sys/unix"

	"github.com/vigil-otel/vigil/recipe"
	"github.com/vigil-otel/vigil/sensor"
)

func newDoctorCommand(stdout io.Writer) *cobra.Command {
	var dirs []string
	cmd := &cobra.Command{
		Use:   "doctor",
		Short: "Say whether vigil can run on this machine, and what it does here without what the kernel lacks",
		Long: `doctor checks what vigil needs (privileges, kernel BTF, the BPF ring
buffer, the scheduler tracepoints), lists each kernel feature the sensor
uses when it is there and what it does instead when it is not, names the
facts this kernel cannot give and the recipes they degrade, and then loads
and attaches the real programs. It exits 1 when vigil cannot run here.`,
		Args: cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			if !doctor(stdout, dirs) {
				return &exitError{code: 1}
			}
			return nil
		},
	}
	recipesFlag(cmd.Flags(), &dirs, "also consider the recipe files of `DIR` (repeatable)")
	return cmd
}

// doctor writes its report and says whether vigil can run here.
func doctor(w io.Writer, dirs []string) bool {
	var uts unix.Utsname
	if err := unix.Uname(&uts); err == nil {
		fmt.Fprintf(w, "kernel %s (%s)\n\n", unix.ByteSliceToString(uts.Release[:]), unix.ByteSliceToString(uts.Machine[:]))
	}
	ok := true
	for _, r := range sensor.Requirements() {
		if r.Met {
			fmt.Fprintf(w, "ok       %s\n", r.Name)
			continue
		}
		ok = false
		fmt.Fprintf(w, "MISSING  %s\n         %s\n", r.Name, r.Fix)
	}
	if !ok {
		fmt.Fprintln(w, "\nvigil cannot run here.")
		return false
	}
	for _, r := range sensor.Recommendations() {
		if r.Met {
			fmt.Fprintf(w, "ok       %s\n", r.Name)
			continue
		}
		fmt.Fprintf(w, "less     %s\n         %s\n", r.Name, r.Fix)
	}
	features, err := sensor.ProbeFeatures()
	if err != nil {
		fmt.Fprintf(w, "\nvigil cannot run here: %v\n", err)
		return false
	}

	fmt.Fprintln(w, "\nkernel features (each missing one has a fallback):")
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	for _, f := range features.List() {
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\n", yesNo(f.Available), f.Name, f.Needs, f.Variant)
	}
	_ = tw.Flush()

	recipes, errs := recipe.LoadCatalog(dirs)
	for _, err := range errs {
		fmt.Fprintf(w, "recipe error: %v\n", err)
	}
	unavailable := features.Unavailable()
	if len(unavailable) == 0 {
		fmt.Fprintln(w, "\nevery fact of an exec is available; no recipe is degraded")
	}
	for _, fact := range unavailable {
		fmt.Fprintf(w, "\nfact %s is unavailable: %s\n", fact.Name, fact.Why)
		if names := degradedBy(recipes, fact.Name); len(names) > 0 {
			fmt.Fprintf(w, "  degraded recipes: %s\n", strings.Join(names, ", "))
		}
	}

	// The last word is the kernel's: load and attach the real programs.
	start := time.Now()
	s, err := sensor.New(sensor.Config{Features: &features, RingBufferSize: 1 << 20})
	if err != nil {
		fmt.Fprintf(w, "\nMISSING  the programs load and attach\n         %v\n\nvigil cannot run here.\n", err)
		return false
	}
	if err := s.Close(); err != nil {
		slog.Warn("close the sensor", "error", err)
	}
	fmt.Fprintf(w, "\nok       the programs load and attach (%s)\n\nvigil can run here.\n", time.Since(start).Round(time.Millisecond))
	return true
}

// degradedBy names the enabled recipes that use fact.
func degradedBy(recipes []*recipe.Recipe, fact string) []string {
	var names []string
	for _, r := range recipes {
		if r.Enabled && r.Uses(fact) {
			names = append(names, r.Name)
		}
	}
	return names
}

// checkKernel runs doctor's checks at start-up, short: the first missing
// requirement is the error, in one sentence; the program variants and the
// degraded recipes are logged. It returns the features for the sensor.
func checkKernel(recipes []*recipe.Recipe) (*sensor.Features, error) {
	for _, r := range sensor.Requirements() {
		if !r.Met {
			return nil, errors.New(r.Fix)
		}
	}
	features, err := sensor.ProbeFeatures()
	if err != nil {
		return nil, err
	}
	var fallbacks []string
	for _, f := range features.List() {
		if !f.Available {
			fallbacks = append(fallbacks, f.Variant)
		}
	}
	if len(fallbacks) > 0 {
		slog.Info("this kernel lacks some BPF features; vigil does without them (vigil doctor tells more)", "fallbacks", strings.Join(fallbacks, "; "))
	}
	for _, fact := range features.Unavailable() {
		if names := degradedBy(recipes, fact.Name); len(names) > 0 {
			slog.Warn("a fact is unavailable on this kernel; recipes that use it are degraded", "fact", fact.Name, "why", fact.Why, "recipes", strings.Join(names, ","))
		}
	}
	return &features, nil
}
