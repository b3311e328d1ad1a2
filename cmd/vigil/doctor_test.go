package main

import (
	"bytes"
	"os"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/vigil-otel/vigil/recipe"
)

func TestDoctorLoadsTheProgramsAndSaysSo(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("loading eBPF programs needs root")
	}
	var stdout, stderr bytes.Buffer
	require.Equal(t, 0, run([]string{"doctor"}, &stdout, &stderr), stderr.String())
	out := stdout.String()
	for _, want := range []string{"ok       privileges to load eBPF programs (CAP_BPF and CAP_PERFMON)", "ok       BPF ring buffer", "bpf_loop helper", "bpf_strnlen kfunc", "ok       the programs load and attach", "vigil can run here."} {
		require.Contains(t, out, want)
	}
}

func TestDegradedRecipesAreTheEnabledOnesThatUseTheFact(t *testing.T) {
	yes := true
	recipes := []*recipe.Recipe{
		{Name: "drift", Enabled: true, Match: recipe.Match{OverlayUpper: &yes}},
		{Name: "drift_off", Match: recipe.Match{OverlayUpper: &yes}},
		{Name: "memfd", Enabled: true, Match: recipe.Match{Memfd: &yes}},
	}
	require.Equal(t, []string{"drift"}, degradedBy(recipes, "overlay_upper"))
}
