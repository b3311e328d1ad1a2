package recipe

import (
	"path"

	"github.com/vigil-otel/vigil/event"
	"github.com/vigil-otel/vigil/proctable"
)

// Lookup finds processes by pid; the process table is one.
type Lookup interface {
	Lookup(pid uint32) *proctable.Process
}

// Input is what a recipe is matched against: an exec, the process after
// it, and the table to find its ancestors in.
type Input struct {
	Event     *event.Event
	Process   *proctable.Process
	Processes Lookup
}

func (in *Input) parent() *proctable.Process { return in.up(in.Process) }

// up returns the parent of p, one of the input's process tree, or nil at
// the top of the tree or where the table does not know it.
func (in *Input) up(p *proctable.Process) *proctable.Process {
	if in.Processes == nil || p.PPID == 0 || p.PPID == p.PID {
		return nil
	}
	return in.Processes.Lookup(p.PPID)
}

// maxAncestry bounds the ancestors that a limit per ancestry and the CEL
// variable ancestors walk up to.
const maxAncestry = 16

// exec is an input as the matchers see it: what many recipes test is
// worked out once per exec, not once per recipe.
type exec struct {
	*Input
	name  string // the program's file name
	flags flagSet
	// dir is the program's directory, worked out when first asked for.
	dir     string
	haveDir bool
	// evalErr is the first error of an expression evaluated since the
	// engine last cleared it.
	evalErr error
}

func (x *exec) reset(in *Input) {
	*x = exec{Input: in, name: path.Base(in.Process.Exe), flags: flagsOf(in.Event)}
}

func (x *exec) dirName() string {
	if !x.haveDir {
		x.dir, x.haveDir = path.Dir(x.Process.Exe), true
	}
	return x.dir
}
