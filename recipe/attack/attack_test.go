package attack

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestLookup(t *testing.T) {
	tech, ok := LookupTechnique("T1053.003")
	require.True(t, ok)
	require.Equal(t, "Cron", tech.Name, "a sub-technique's own name")
	parent, sub := tech.Parent()
	require.True(t, sub)
	require.Equal(t, "T1053", parent)
	p, ok := LookupTechnique(parent)
	require.True(t, ok)
	require.Equal(t, "Scheduled Task/Job", p.Name)
	persistence, _ := LookupTactic("TA0003")
	require.True(t, tech.Serves(persistence))
	discovery, _ := LookupTactic("TA0007")
	require.False(t, tech.Serves(discovery))

	_, ok = LookupTechnique("T1562.001") // moved to T1685 in v19
	require.False(t, ok)
	_, ok = LookupTechnique("T9999")
	require.False(t, ok)

	tactic, ok := LookupTactic("TA0112")
	require.True(t, ok)
	require.Equal(t, "Defense Impairment", tactic.Name)
}

// TestTableIsSortedAndWhole checks what LookupTechnique's binary search
// and the loader rely on: ids in order, once each, every sub-technique's
// technique present, every tactic known.
func TestTableIsSortedAndWhole(t *testing.T) {
	require.Greater(t, len(techniques), 600)
	slugs := map[string]bool{}
	for _, tc := range tactics {
		slugs[tc.Slug] = true
	}
	for i, tech := range techniques {
		if i > 0 {
			require.Less(t, techniques[i-1].ID, tech.ID)
		}
		if parent, sub := tech.Parent(); sub {
			_, ok := LookupTechnique(parent)
			require.True(t, ok, "%s without %s", tech.ID, parent)
		}
		require.NotEmpty(t, tech.Tactics, tech.ID)
		for _, s := range tech.Tactics {
			require.True(t, slugs[s], "%s: tactic %s", tech.ID, s)
		}
	}
}

func TestURL(t *testing.T) {
	require.Equal(t, "https://attack.mitre.org/techniques/T1059/004/", URL("T1059.004"))
	require.Equal(t, "https://attack.mitre.org/tactics/TA0002/", URL("TA0002"))
}

func TestLabel(t *testing.T) {
	require.Equal(t, "T1105 Ingress Tool Transfer, T1059.004 Unix Shell",
		Label([]string{"T1105", "T1059"}, []string{"Ingress Tool Transfer", "Command and Scripting Interpreter"},
			[]string{"T1059.004"}, []string{"Unix Shell"}))
	require.Equal(t, "T1059", Label([]string{"T1059"}, nil, nil, nil))
	require.Empty(t, Label(nil, nil, nil, nil))
}
