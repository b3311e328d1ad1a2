// Package attack is the MITRE ATT&CK Enterprise vocabulary that recipes name
// their tactic and techniques in: ids, the names ATT&CK gives them, and which
// technique a sub-technique belongs to. The technique table is generated
// (techniques_gen.go, by internal/attackgen) from the ATT&CK objects that
// Atomic Red Team ships; the tactics are few and written out below.
package attack

import (
	"sort"
	"strings"
)

// Framework is the name ECS's threat.framework gives ATT&CK.
const Framework = "MITRE ATT&CK"

// Version is the ATT&CK release the tables follow.
const Version = "v19"

// Tactic is one of ATT&CK's tactics: the adversary's goal.
type Tactic struct {
	ID   string // TA0002
	Name string // Execution
	Slug string // execution: how ATT&CK's kill chain phases name it
}

// Technique is a technique or a sub-technique.
type Technique struct {
	ID string // T1059, T1059.004
	// Name is ATT&CK's name: a sub-technique's own (Unix Shell), not its
	// technique's.
	Name string
	// Tactics are the slugs of the tactics the technique serves.
	Tactics []string
}

// Parent returns the id of the technique a sub-technique belongs to, and
// false for a technique.
func (t Technique) Parent() (string, bool) {
	parent, _, sub := strings.Cut(t.ID, ".")
	return parent, sub
}

// Serves says whether the technique serves the tactic.
func (t Technique) Serves(tactic Tactic) bool {
	for _, s := range t.Tactics {
		if s == tactic.Slug {
			return true
		}
	}
	return false
}

// tactics are ATT&CK's Enterprise tactics, in the matrix's order. ATT&CK
// v19 renamed Defense Evasion (TA0005) to Stealth and split Defense
// Impairment (TA0112) from it.
var tactics = [...]Tactic{
	{"TA0043", "Reconnaissance", "reconnaissance"},
	{"TA0042", "Resource Development", "resource-development"},
	{"TA0001", "Initial Access", "initial-access"},
	{"TA0002", "Execution", "execution"},
	{"TA0003", "Persistence", "persistence"},
	{"TA0004", "Privilege Escalation", "privilege-escalation"},
	{"TA0005", "Stealth", "stealth"},
	{"TA0112", "Defense Impairment", "defense-impairment"},
	{"TA0006", "Credential Access", "credential-access"},
	{"TA0007", "Discovery", "discovery"},
	{"TA0008", "Lateral Movement", "lateral-movement"},
	{"TA0009", "Collection", "collection"},
	{"TA0011", "Command and Control", "command-and-control"},
	{"TA0010", "Exfiltration", "exfiltration"},
	{"TA0040", "Impact", "impact"},
}

// LookupTactic returns the tactic with the given id.
func LookupTactic(id string) (Tactic, bool) {
	for _, t := range tactics {
		if t.ID == id {
			return t, true
		}
	}
	return Tactic{}, false
}

// LookupTechnique returns the technique or sub-technique with the given id.
func LookupTechnique(id string) (Technique, bool) {
	i := sort.Search(len(techniques), func(i int) bool { return techniques[i].ID >= id })
	if i < len(techniques) && techniques[i].ID == id {
		return techniques[i], true
	}
	return Technique{}, false
}

// URL returns the address of a tactic's or technique's page on ATT&CK's
// site.
func URL(id string) string {
	if strings.HasPrefix(id, "TA") {
		return "https://attack.mitre.org/tactics/" + id + "/"
	}
	return "https://attack.mitre.org/techniques/" + strings.ReplaceAll(id, ".", "/") + "/"
}

// Label writes a detection's techniques for people, as its attributes file
// them (threat.technique.id and .name, threat.technique.subtechnique.id and
// .name): each sub-technique in place of its technique, "T1105 Ingress Tool
// Transfer, T1059.004 Unix Shell". Names missing at the end of a list are
// left out.
func Label(ids, names, subIDs, subNames []string) string {
	var parts []string
	for i, id := range ids {
		named := false
		for j, sub := range subIDs {
			if strings.HasPrefix(sub, id+".") {
				parts = append(parts, strings.TrimSpace(sub+" "+at(subNames, j)))
				named = true
			}
		}
		if !named {
			parts = append(parts, strings.TrimSpace(id+" "+at(names, i)))
		}
	}
	return strings.Join(parts, ", ")
}

func at(s []string, i int) string {
	if i < len(s) {
		return s[i]
	}
	return ""
}
