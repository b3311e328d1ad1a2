package recipe

import (
	"regexp"
	"slices"
)

// Uses says whether r reads fact, named as recipes name it (a match field
// or a CEL variable: overlay_upper, loginuid), in its match, its
// sequence's steps or its unless.
// A recipe that uses a fact the kernel cannot give is degraded there: it
// may miss what it exists to find.
func (r *Recipe) Uses(fact string) bool {
	variable := regexp.MustCompile(`\b` + regexp.QuoteMeta(fact) + `\b`)
	var in func(m *Match) bool
	in = func(m *Match) bool {
		return testsField(m, fact) || variable.MatchString(m.CEL) || slices.ContainsFunc(m.AnyOf, func(alt Match) bool { return in(&alt) })
	}
	if r.Sequence != nil && slices.ContainsFunc(r.Sequence.Steps, func(st SequenceStep) bool { return in(&st.Match) }) {
		return true
	}
	return in(&r.Match) || slices.ContainsFunc(r.Unless, func(m Match) bool { return in(&m) })
}

// testsField says whether m's own fields test fact, one of the facts a
// kernel may lack.
func testsField(m *Match, fact string) bool {
	switch fact {
	case "overlay_upper":
		return m.OverlayUpper != nil
	case "loginuid":
		return len(m.User.LoginUID) > 0 || m.User.LoggedIn != nil
	}
	return false
}
