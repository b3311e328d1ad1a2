package recipe

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// Importance ranks how urgently a detection needs a person's attention.
type Importance uint8

// The importances, lowest first.
const (
	Low Importance = iota + 1
	Medium
	High
	Critical
)

// ParseImportance returns the importance that s names.
func ParseImportance(s string) (Importance, error) {
	for i := Low; i <= Critical; i++ {
		if i.String() == s {
			return i, nil
		}
	}
	return 0, errors.New("want one of low, medium, high, critical")
}

// MarshalText spells the importance as recipes do, for JSON and YAML.
func (i Importance) MarshalText() ([]byte, error) {
	if i < Low || i > Critical {
		return nil, fmt.Errorf("importance %d out of range", i)
	}
	return []byte(i.String()), nil
}

// UnmarshalText reads an importance spelled as recipes spell it.
func (i *Importance) UnmarshalText(b []byte) error {
	v, err := ParseImportance(string(b))
	if err != nil {
		return fmt.Errorf("importance %q: %w", b, err)
	}
	*i = v
	return nil
}

// String returns the importance as recipes spell it.
func (i Importance) String() string {
	switch i {
	case Low:
		return "low"
	case Medium:
		return "medium"
	case High:
		return "high"
	case Critical:
		return "critical"
	}
	return fmt.Sprintf("importance(%d)", uint8(i))
}

// ATTACK names a MITRE ATT&CK tactic or technique.
type ATTACK struct {
	ID   string // TA0042, T1059, T1059.004
	Name string
}

// Technique is an ATT&CK technique that a recipe detects, with the
// sub-technique when the recipe names one: security backends file them
// apart (ECS's threat.technique and threat.technique.subtechnique).
type Technique struct {
	ATTACK // T1059 Command and Scripting Interpreter
	// Sub is the sub-technique (T1059.004 Unix Shell), zero when the
	// recipe names the technique itself.
	Sub ATTACK
}

// Named returns the technique as the recipe names it: the sub-technique
// when there is one.
func (t Technique) Named() ATTACK {
	if t.Sub.ID != "" {
		return t.Sub
	}
	return t.ATTACK
}

// Recipe is one detection, as its file says it: what to look for, and
// what a match means. It is plain data, which [NewEngine] compiles; the
// loaders fill in the defaults a file leaves out (version 1, enabled).
type Recipe struct {
	Name        string
	Version     int
	Description string
	Tactic      ATTACK
	// Techniques are the ATT&CK techniques the behaviour is, the main one
	// first: a download piped to a shell is both Ingress Tool Transfer and
	// Unix Shell.
	Techniques []Technique
	Importance Importance
	// Enabled is false for a recipe that loads but does not run.
	Enabled       bool
	Documentation Documentation
	Match         Match
	// Sequence, when set, makes the recipe fire on a series of execs
	// instead of Match: one recipe has one or the other.
	Sequence *Sequence
	// Unless lists exceptions: an exec that matches any of them does not
	// fire the recipe, nor count as a step of its sequence.
	Unless []Match
	// Supersedes names recipes this one takes over from, a stronger
	// variant of theirs: an exec this recipe's match holds for (whatever
	// its own exceptions say) does not fire them, while this recipe is
	// enabled. One exec then gives one detection, the stronger one.
	Supersedes []string
	// Limit, when set, bounds how often the recipe reports.
	Limit *Limit
	// Tests are the recipe's own fixtures.
	Tests []Fixture
	// Reference is the address of the recipe's page: for built-ins, their
	// page in docs/recipes; for others, what the file says.
	Reference string
	// Ruleset names the collection the recipe came from.
	Ruleset string
	// Overrides names the ruleset whose recipe of the same name this one
	// replaced in its catalog (BuiltinRuleset for a built-in redefined
	// in a directory of one's own); empty when it replaced none.
	Overrides string
	// Source is where the recipe was defined, as file:line.
	Source string
}

// TechniqueLabel writes the recipe's techniques for people, each as the
// recipe names it: "T1105 Ingress Tool Transfer, T1059.004 Unix Shell".
func (r *Recipe) TechniqueLabel() string {
	parts := make([]string, len(r.Techniques))
	for i, t := range r.Techniques {
		n := t.Named()
		parts[i] = n.ID + " " + n.Name
	}
	return strings.Join(parts, ", ")
}

// Documentation is the user-facing page of a recipe.
type Documentation struct {
	// Summary is the quick explanation: what fired, in two sentences.
	Summary string
	// Analysis says how the detection works and what it sees.
	Analysis string
	// Pipeline says what the detection means for a CI/CD pipeline.
	Pipeline string
	// Actions are the recommended responses, one per entry.
	Actions []string
}

// Limit bounds how often a recipe reports: at most Count detections per
// Window for each distinct value of Per. A file's limit defaults to one
// detection per executable per minute; a Limit built otherwise gives all
// three.
type Limit struct {
	Count  int
	Per    LimitKey
	Window time.Duration
}

// LimitKey says what a Limit counts separately.
type LimitKey string

// The keys a limit can count by.
const (
	PerRecipe     LimitKey = "recipe"     // the recipe as a whole
	PerExecutable LimitKey = "executable" // each program
	PerParent     LimitKey = "parent"     // each parent program
	PerAncestry   LimitKey = "ancestry"   // each chain of ancestor programs
	PerProcess    LimitKey = "process"    // each process
)
