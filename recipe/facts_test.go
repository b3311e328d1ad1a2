package recipe

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestUsesFindsAFactInFieldsAlternativesUnlessAndCEL(t *testing.T) {
	yes := true
	for _, tc := range []struct {
		name string
		r    Recipe
		want bool
	}{
		{"field", Recipe{Match: Match{OverlayUpper: &yes}}, true},
		{"alternative", Recipe{Match: Match{AnyOf: []Match{{Memfd: &yes}, {OverlayUpper: &yes}}}}, true},
		{"unless", Recipe{Unless: []Match{{OverlayUpper: &yes}}}, true},
		{"cel", Recipe{Match: Match{CEL: `overlay_upper && uid == 0`}}, true},
		{"other fact", Recipe{Match: Match{Memfd: &yes, CEL: `overlay_uppermost == 1`}}, false},
	} {
		require.Equal(t, tc.want, tc.r.Uses("overlay_upper"), tc.name)
	}
	require.True(t, (&Recipe{Match: Match{User: UserMatch{LoggedIn: &yes}}}).Uses("loginuid"))
}

func TestCatalogRecipesThatNeedTheOverlayLayer(t *testing.T) {
	recipes, errs := Builtin()
	require.Empty(t, errs)
	var users []string
	for _, r := range recipes {
		if r.Uses("overlay_upper") {
			users = append(users, r.Name)
		}
	}
	require.Contains(t, users, "container_drift_exec")
}
