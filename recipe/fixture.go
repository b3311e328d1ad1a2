package recipe

import (
	"errors"
	"slices"
	"time"

	"github.com/vigil-otel/vigil/event"
	"github.com/vigil-otel/vigil/proctable"
)

// Fixture is one of a recipe's tests: an exec in its context, and whether
// the recipe must fire on it.
type Fixture struct {
	Name   string
	Expect bool
	Exec   event.Event
	// Parent and Ancestors (beyond the parent, nearest first) are the
	// process's tree; their Exe and Args count.
	Parent    *proctable.Process
	Ancestors []*proctable.Process
	PrevExe   string
	// Execs are, for a sequence recipe, the execs in order; Exec is then
	// unused, and Parent and Ancestors are each tree's.
	Execs []FixtureExec
	// Line is where the fixture is written.
	Line int
}

// FixtureExec is one exec of a sequence recipe's test.
type FixtureExec struct {
	Exec    event.Event
	PrevExe string
	// Tree numbers the process tree the exec runs in, from 1: the execs
	// of one tree are children of the test's parent, those of different
	// trees share no ancestor.
	Tree int
	// After is the time since the previous exec of the test.
	After time.Duration
}

// fixtureTree is the process tree a fixture describes, as a Lookup: the
// process is pid 1000, its parent 999, and each ancestor one less.
type fixtureTree map[uint32]*proctable.Process

func (t fixtureTree) Lookup(pid uint32) *proctable.Process { return t[pid] }

// Input returns the fixture as a recipe sees it.
func (fx *Fixture) Input() *Input {
	ev := fx.Exec
	tree := fixtureTree{}
	proc := &proctable.Process{PID: 1000, Exe: ev.ExePath, Args: ev.Args, Exec: &ev}
	if fx.PrevExe != "" {
		proc.ExecChain = []string{fx.PrevExe}
	}
	ev.PID = proc.PID
	chain := fx.Ancestors
	if fx.Parent != nil {
		chain = append([]*proctable.Process{fx.Parent}, chain...)
	}
	child := proc
	for i, a := range chain {
		anc := *a
		anc.PID = proc.PID - uint32(i) - 1
		child.PPID = anc.PID
		tree[anc.PID] = &anc
		child = &anc
	}
	ev.PPID = proc.PPID
	return &Input{Event: &ev, Process: proc, Processes: tree}
}

// sequenceInputs returns a sequence test's execs as a recipe sees them, in
// order: each exec a process of its own (pid 1000 on), a child of its
// tree's parent; the trees' parents and ancestors are copies of the
// test's (a plain shell when it names none), with pids of their own.
func (fx *Fixture) sequenceInputs() []*Input {
	tree := fixtureTree{}
	parentOf := map[int]uint32{}
	chain := fx.Ancestors
	parent := fx.Parent
	if parent == nil {
		parent = &proctable.Process{Exe: "/usr/bin/bash", Args: []string{"bash"}}
	}
	chain = append([]*proctable.Process{parent}, chain...)
	when := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	out := make([]*Input, 0, len(fx.Execs))
	for i, fe := range fx.Execs {
		if _, ok := parentOf[fe.Tree]; !ok {
			base := uint32(900 - 100*(fe.Tree-1))
			parentOf[fe.Tree] = base
			for j, a := range chain {
				anc := *a
				anc.PID, anc.PPID = base-uint32(j), base-uint32(j)-1
				if j == len(chain)-1 {
					anc.PPID = 1
				}
				tree[anc.PID] = &anc
			}
		}
		when = when.Add(fe.After)
		ev := fe.Exec
		ev.Time, ev.PID, ev.PPID = when, 1000+uint32(i), parentOf[fe.Tree]
		proc := &proctable.Process{PID: ev.PID, PPID: ev.PPID, Exe: ev.ExePath, Args: ev.Args, Exec: &ev}
		if fe.PrevExe != "" {
			proc.ExecChain = []string{fe.PrevExe}
		}
		tree[proc.PID] = proc
		out = append(out, &Input{Event: &ev, Process: proc, Processes: tree})
	}
	return out
}

// FixtureResult is the outcome of one of a recipe's tests.
type FixtureResult struct {
	Recipe  *Recipe
	Fixture *Fixture
	// Fired says whether the recipe fired; the test passed when that is
	// what the fixture expected.
	Fired bool
}

// Passed says whether the recipe did what the fixture expected.
func (r FixtureResult) Passed() bool { return r.Fired == r.Fixture.Expect }

// RunFixtures runs every recipe's tests, each recipe with only the
// recipes among recipes that supersede it (a fixture that another recipe
// would also match does not disturb it), limits aside. A recipe that does
// not compile runs no test: the error names it, and the others run.
func RunFixtures(recipes []*Recipe) ([]FixtureResult, error) {
	scope, err := newCELScope()
	if err != nil {
		return nil, err
	}
	// Each recipe compiled once, enabled and without its limit.
	progs := make([]*program, len(recipes))
	var errs []error
	for i, r := range recipes {
		c := *r
		c.Enabled, c.Limit = true, nil
		p, cerrs := compile(&c, scope)
		for _, e := range cerrs {
			errs = append(errs, locateAtSource(e, r.Source))
		}
		progs[i] = p
	}
	var out []FixtureResult
	for i, r := range recipes {
		if progs[i] == nil {
			continue
		}
		set := []*program{progs[i]}
		for j, other := range recipes {
			if j != i && progs[j] != nil && other.Enabled && slices.Contains(other.Supersedes, r.Name) {
				set = append(set, progs[j])
			}
		}
		for k := range r.Tests {
			fx := &r.Tests[k]
			// A fresh engine for each test: a sequence's state is the
			// test's own.
			e := newEngine(set)
			inputs := []*Input{fx.Input()}
			if len(fx.Execs) > 0 {
				inputs = fx.sequenceInputs()
			}
			fired := false
			for _, in := range inputs {
				fired = fired || slices.ContainsFunc(e.Match(in, nil), func(h Hit) bool { return h.Recipe == progs[i].recipe })
			}
			out = append(out, FixtureResult{Recipe: r, Fixture: fx, Fired: fired})
		}
	}
	return out, errors.Join(errs...)
}
