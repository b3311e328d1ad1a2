// Package recipe defines vigil's detection recipes, loads them from YAML
// (the built-in catalog and users' files), and matches exec events against
// them.
package recipe

import "fmt"

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
	return 0, fmt.Errorf("unknown importance %q, want low, medium, high or critical", s)
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

// Recipe is one detection: what to look for, and what a match means.
type Recipe struct {
	Name        string
	Description string
	Tactic      ATTACK
	Technique   ATTACK
	Importance  Importance
	Match       Match
	// Ruleset names the collection the recipe came from.
	Ruleset string
	// Source is where the recipe was defined, as file:line.
	Source string
}

// Match is what an exec must look like for a recipe to fire. Every field
// set must hold; a list holds when any of its entries does.
type Match struct {
	Executable ExecutableMatch
}

// ExecutableMatch tests the program an exec starts.
type ExecutableMatch struct {
	// Basename lists file names, such as "zip".
	Basename []string
	// Path lists absolute paths, such as "/usr/bin/zip".
	Path []string
}

func (m ExecutableMatch) empty() bool { return len(m.Basename) == 0 && len(m.Path) == 0 }
