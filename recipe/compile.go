package recipe

import (
	"fmt"
	"reflect"
	"slices"
	"strings"

	"github.com/vigil-otel/vigil/recipe/attack"
)

// program is a recipe compiled: what the engine runs of it, built once
// from a spec that made sense, and never changed after.
type program struct {
	// recipe is what hits say of the detection: the spec it was compiled
	// from, as it was, without what the program replaces (its matching)
	// or running never needs (its page, its tests), which the caller's
	// spec keeps.
	recipe   *Recipe
	name     string
	enabled  bool
	match    matcher
	unless   []matcher
	sequence *seqProgram // nil for a recipe of one exec
	limit    *Limit      // a copy; nil when the recipe has none
	// supersedes names the recipes this one takes over from.
	supersedes []string
}

// compiler checks one recipe's spec and builds its program, collecting
// every problem as an Error that names the recipe and the field; the
// caller locates them.
type compiler struct {
	recipe string
	cel    *celScope
	errs   []*Error
}

func (c *compiler) fail(field, format string, args ...any) {
	c.errs = append(c.errs, &Error{Recipe: c.recipe, Field: field, Reason: fmt.Sprintf(format, args...)})
}

// described copies what a detection of r says of it.
func described(r *Recipe) *Recipe {
	return &Recipe{
		Name: r.Name, Version: r.Version, Description: r.Description, Tactic: r.Tactic,
		Techniques: slices.Clone(r.Techniques), Importance: r.Importance, Enabled: r.Enabled,
		Supersedes: slices.Clone(r.Supersedes), Reference: r.Reference,
		Ruleset: r.Ruleset, Source: r.Source,
	}
}

// compile checks r and builds its program; the program is nil when r has
// errors. Its checks, in the order of a recipe's fields, are the one
// definition of a recipe that makes sense: the parser only reads what a
// file says.
func compile(r *Recipe, scope *celScope) (*program, []*Error) {
	c := &compiler{recipe: r.Name, cel: scope}
	p := &program{recipe: described(r), name: r.Name, enabled: r.Enabled, supersedes: slices.Clone(r.Supersedes)}
	switch {
	case r.Name == "":
		c.fail("name", "missing")
	case !validName(r.Name):
		c.fail("name", "%q must be lower case letters, digits and underscores, starting with a letter", r.Name)
	}
	if r.Version < 1 {
		c.fail("version", "%d is not a whole number of at least 1", r.Version)
	}
	if r.Description == "" {
		c.fail("description", "missing")
	}
	c.tactic(r.Tactic)
	c.techniques(r.Techniques)
	if r.Importance < Low || r.Importance > Critical {
		c.missingOr("importance", r.Importance == 0, "%d is not an importance, want low, medium, high or critical", r.Importance)
	}
	switch {
	case r.Sequence != nil:
		if !testsNothing(&r.Match) {
			c.fail("match", "a sequence recipe matches in its steps: move this match into them")
		}
		p.sequence = c.sequence("sequence", r.Sequence)
	case testsNothing(&r.Match):
		c.fail("match", "missing, or empty: the recipe would fire on every exec")
	default:
		p.match = c.match("match", &r.Match)
	}
	p.unless = make([]matcher, len(r.Unless))
	for i := range r.Unless {
		p.unless[i] = c.match(fmt.Sprintf("unless[%d]", i), &r.Unless[i])
	}
	for i, name := range r.Supersedes {
		if !validName(name) {
			c.fail(fmt.Sprintf("supersedes[%d]", i), "%q is not a recipe name", name)
		}
	}
	if r.Sequence != nil && len(r.Supersedes) > 0 {
		c.fail("supersedes", "a sequence recipe neither supersedes another nor is superseded")
	}
	if r.Limit != nil {
		l := *r.Limit
		p.limit = &l
		c.limit(&l)
	}
	c.fixtures(r)
	if len(c.errs) > 0 {
		return nil, c.errs
	}
	return p, nil
}

// testsNothing says whether m sets no field: it holds for every exec.
func testsNothing(m *Match) bool { return reflect.ValueOf(*m).IsZero() }

// missingOr reports field as missing when it is, else as wrong.
func (c *compiler) missingOr(field string, missing bool, format string, args ...any) {
	if missing {
		c.fail(field, "missing")
		return
	}
	c.fail(field, format, args...)
}

// validName says whether s is a recipe name: lower-case letters, digits
// and underscores, starting with a letter.
func validName(s string) bool {
	for i, ch := range s {
		if !('a' <= ch && ch <= 'z' || i > 0 && ('0' <= ch && ch <= '9' || ch == '_')) {
			return false
		}
	}
	return s != ""
}

// tactic checks a recipe's tactic, which must be one of ATT&CK's under the
// name ATT&CK gives it, so that every recipe files its detections where a
// security backend looks for them.
func (c *compiler) tactic(t ATTACK) {
	switch tactic, ok := attack.LookupTactic(t.ID); {
	case t.ID == "" || t.Name == "":
		c.missingOr("tactic", t == ATTACK{}, "needs both id and name")
	case !validTactic(t.ID):
		c.fail("tactic.id", "%q is not a MITRE ATT&CK id like TA0042", t.ID)
	case !ok:
		c.fail("tactic.id", "%s is not an ATT&CK %s Enterprise tactic", t.ID, attack.Version)
	case tactic.Name != t.Name:
		c.fail("tactic.name", "ATT&CK %s calls %s %q, not %q", attack.Version, t.ID, tactic.Name, t.Name)
	}
}

// techniques checks each technique: a technique of ATT&CK, or a
// sub-technique with the technique it belongs to. A file names one under
// technique, several under techniques.
func (c *compiler) techniques(ts []Technique) {
	if len(ts) == 0 {
		c.fail("technique", "missing: name at least one ATT&CK technique")
	}
	for i, t := range ts {
		field := "technique"
		if len(ts) > 1 {
			field = fmt.Sprintf("techniques[%d]", i)
		}
		named := t.Named()
		found, ok := attack.LookupTechnique(named.ID)
		parentID, isSub := found.Parent()
		switch {
		case named.ID == "" || named.Name == "" || t.Sub.ID != "" && (t.ID == "" || t.Name == ""):
			c.fail(field, "needs both id and name")
		case !validTechnique(named.ID):
			c.fail(field+".id", "%q is not a MITRE ATT&CK id like T1059 or T1059.004", named.ID)
		case !ok:
			c.fail(field+".id", "%s is not an ATT&CK %s Enterprise technique (revoked and deprecated ones are not: %s names the one that replaced it)",
				named.ID, attack.Version, attack.URL(named.ID))
		case isSub && t.Sub.ID == "":
			c.fail(field+".id", "%s is a sub-technique: give it as Sub, with %s as the technique", named.ID, parentID)
		case isSub && t.ID != parentID:
			c.fail(field+".id", "%s belongs to %s, not %s", named.ID, parentID, t.ID)
		}
	}
}

// validTactic says whether s is an ATT&CK tactic id such as TA0042.
func validTactic(s string) bool {
	digits, ok := strings.CutPrefix(s, "TA")
	return ok && allDigits(digits, 4)
}

// validTechnique says whether s is an ATT&CK technique id such as T1059 or
// T1059.004.
func validTechnique(s string) bool {
	id, ok := strings.CutPrefix(s, "T")
	if !ok {
		return false
	}
	technique, sub, hasSub := strings.Cut(id, ".")
	return allDigits(technique, 4) && (!hasSub || allDigits(sub, 3))
}

func allDigits(s string, n int) bool {
	return len(s) == n && strings.Trim(s, "0123456789") == ""
}

func (c *compiler) limit(l *Limit) {
	if l.Count < 1 {
		c.fail("limit.count", "%d is not a whole number of at least 1", l.Count)
	}
	switch l.Per {
	case PerRecipe, PerExecutable, PerParent, PerAncestry, PerProcess:
	default:
		c.fail("limit.per", "unknown value %q, want recipe, executable, parent, ancestry or process", l.Per)
	}
	if l.Window <= 0 {
		c.fail("limit.window", "%v is not a positive duration such as 1m or 30s", l.Window)
	}
}

// maxFixtureTrees bounds the process trees of a sequence test.
const maxFixtureTrees = 8

// fixtures checks the recipe's tests: a sequence recipe's list their
// execs, the others' give one exec.
func (c *compiler) fixtures(r *Recipe) {
	for i, fx := range r.Tests {
		field := fmt.Sprintf("tests[%d]", i)
		switch {
		case r.Sequence == nil && len(fx.Execs) > 0:
			c.fail(field+".execs", "only a sequence recipe's test lists execs; give this one an exec")
		case r.Sequence == nil && fx.Exec.ExePath == "":
			c.fail(field+".exec.exe", "missing")
		case r.Sequence != nil && len(fx.Execs) == 0:
			c.fail(field+".execs", "missing: a sequence recipe's test lists its execs, in order")
		}
		for j, fe := range fx.Execs {
			f := fmt.Sprintf("%s.execs[%d]", field, j)
			if fe.Exec.ExePath == "" {
				c.fail(f+".exec.exe", "missing")
			}
			if fe.Tree < 1 || fe.Tree > maxFixtureTrees {
				c.fail(f+".tree", "%d is not a tree from 1 to %d", fe.Tree, maxFixtureTrees)
			}
			if fe.After <= 0 {
				c.fail(f+".after", "%v is not a positive duration such as 1m or 30s", fe.After)
			}
		}
	}
}
