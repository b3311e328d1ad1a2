package recipe

import (
	"fmt"
	"slices"
	"strconv"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/vigil-otel/vigil/event"
	"github.com/vigil-otel/vigil/proctable"
)

// fixtures reads a recipe's tests:
//
//	tests:
//	  - name: zip archives a file
//	    match: true
//	    exec: {exe: /usr/bin/zip, args: [zip, -q, a.zip, f], uid: 1000}
//	    parent: {exe: /bin/sh, args: [sh, -c, "zip ..."]}
//	    ancestors: [{exe: /usr/bin/make}]
func (p *parser) fixtures(n *yaml.Node, field string) []Fixture {
	if !p.kind(n, field, yaml.SequenceNode, "a list of tests") {
		return nil
	}
	out := make([]Fixture, 0, len(n.Content))
	for i, item := range n.Content {
		f := fmt.Sprintf("%s[%d]", field, i)
		fx := Fixture{Line: item.Line, Exec: event.Event{Kind: event.KindExec, LoginUID: event.NoLoginUID}}
		var hasMatch, hasExec bool
		p.mapping(item, f, map[string]func(*yaml.Node, string){
			"name": func(n *yaml.Node, f string) { p.str(n, f, &fx.Name) },
			"match": func(n *yaml.Node, f string) {
				hasMatch = true
				p.boolean(n, f, &fx.Expect)
			},
			"exec": func(n *yaml.Node, f string) {
				hasExec = true
				p.fixtureExec(n, f, &fx)
			},
			"execs": func(n *yaml.Node, f string) {
				hasExec = true
				fx.Execs = parseList(p, n, f, "a list of execs", p.fixtureSequenceExec)
			},
			"parent": func(n *yaml.Node, f string) {
				fx.Parent = &proctable.Process{}
				p.fixtureProcess(n, f, fx.Parent)
			},
			"ancestors": func(n *yaml.Node, f string) {
				if !p.kind(n, f, yaml.SequenceNode, "a list of processes") {
					return
				}
				for j, a := range n.Content {
					proc := &proctable.Process{}
					p.fixtureProcess(a, fmt.Sprintf("%s[%d]", f, j), proc)
					fx.Ancestors = append(fx.Ancestors, proc)
				}
			},
		})
		if item.Kind != yaml.MappingNode {
			continue
		}
		if !hasMatch {
			p.fail(item, f+".match", "missing: say whether the recipe must fire (true) or not (false)")
		}
		if !hasExec {
			p.fail(item, f+".exec", "missing: an exec, or a sequence recipe's execs")
		}
		if fx.Name == "" {
			fx.Name = "test " + strconv.Itoa(i+1)
		}
		out = append(out, fx)
	}
	return out
}

// fixtureSequenceExec reads one exec of a sequence recipe's test:
//
//   - exec: {exe: /usr/bin/chmod, args: [chmod, +x, /tmp/x]}
//     tree: 2      # another process tree than the test's first (1)
//     after: 30s   # since the exec before (1s)
func (p *parser) fixtureSequenceExec(n *yaml.Node, field string, fe *FixtureExec) {
	fe.Tree, fe.After = 1, time.Second
	var hasExec bool
	p.mapping(n, field, map[string]func(*yaml.Node, string){
		"exec": func(n *yaml.Node, f string) {
			hasExec = true
			fx := Fixture{Exec: event.Event{Kind: event.KindExec, LoginUID: event.NoLoginUID}}
			p.fixtureExec(n, f, &fx)
			fe.Exec, fe.PrevExe = fx.Exec, fx.PrevExe
		},
		"tree": func(n *yaml.Node, f string) {
			p.integer(n, f, &fe.Tree, 1)
			if fe.Tree > maxFixtureTrees {
				p.fail(n, f, "at most %d trees", maxFixtureTrees)
			}
		},
		"after": func(n *yaml.Node, f string) { p.duration(n, f, &fe.After) },
	})
	if n.Kind == yaml.MappingNode && !hasExec {
		p.fail(n, field+".exec", "missing")
	}
}

func (p *parser) fixtureProcess(n *yaml.Node, field string, proc *proctable.Process) {
	p.mapping(n, field, map[string]func(*yaml.Node, string){
		"exe":  func(n *yaml.Node, f string) { p.str(n, f, &proc.Exe) },
		"args": func(n *yaml.Node, f string) { p.strs(n, f, &proc.Args, func(string) error { return nil }) },
	})
}

func (p *parser) fixtureExec(n *yaml.Node, field string, fx *Fixture) {
	ev := &fx.Exec
	str := func(dst *string) func(*yaml.Node, string) {
		return func(n *yaml.Node, f string) { p.str(n, f, dst) }
	}
	id := func(dst *uint32) func(*yaml.Node, string) {
		return func(n *yaml.Node, f string) {
			var ids []uint32
			p.ids(n, f, &ids)
			if len(ids) == 1 {
				*dst = ids[0]
			}
		}
	}
	b := func(dst *bool) func(*yaml.Node, string) {
		return func(n *yaml.Node, f string) { p.boolean(n, f, dst) }
	}
	p.mapping(n, field, map[string]func(*yaml.Node, string){
		"exe":           str(&ev.ExePath),
		"filename":      str(&ev.Filename),
		"args":          func(n *yaml.Node, f string) { p.strs(n, f, &ev.Args, func(string) error { return nil }) },
		"script":        str(&ev.Script),
		"interpreter":   str(&ev.Interpreter),
		"cwd":           str(&ev.Cwd),
		"tty":           str(&ev.TTY),
		"container_id":  str(&ev.ContainerID),
		"cgroup":        str(&ev.CgroupPath),
		"loader_target": str(&ev.LoaderTarget),
		"prev_exe":      str(&fx.PrevExe),
		"uid":           id(&ev.UID),
		"euid":          id(&ev.EUID),
		"gid":           id(&ev.GID),
		"loginuid":      id(&ev.LoginUID),
		"setid":         b(&ev.SetID),
		"loader":        b(&ev.Loader),
		"memfd":         b(&ev.File.Memfd),
		"deleted":       b(&ev.File.Deleted),
		"overlay_upper": b(&ev.File.OverlayUpper),
		"user_writable": b(&ev.File.UserWritable),
		"env": func(n *yaml.Node, f string) {
			if !p.kind(n, f, yaml.MappingNode, "a mapping of variables") {
				return
			}
			ev.Env = make(map[string]string, len(n.Content)/2)
			for i := 0; i+1 < len(n.Content); i += 2 {
				ev.Env[n.Content[i].Value] = n.Content[i+1].Value
			}
		},
	})
	if ev.ExePath == "" {
		p.fail(n, field+".exe", "missing")
	}
	if ev.Filename == "" {
		ev.Filename = ev.ExePath
	}
	if len(ev.Args) == 0 && ev.ExePath != "" {
		ev.Args = []string{ev.ExePath}
	}
	ev.Argc = uint32(len(ev.Args))
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

// maxFixtureTrees bounds the process trees of a sequence test.
const maxFixtureTrees = 8

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
// would also match does not disturb it), limits aside.
func RunFixtures(recipes []*Recipe) []FixtureResult {
	var out []FixtureResult
	for _, r := range recipes {
		alone := runnable(r)
		set := []*Recipe{alone}
		for _, other := range recipes {
			if other != r && other.Enabled && slices.Contains(other.Supersedes, r.Name) {
				set = append(set, runnable(other))
			}
		}
		for i := range r.Tests {
			fx := &r.Tests[i]
			// A fresh engine for each test: a sequence's state is the
			// test's own.
			e := NewEngine(set)
			inputs := []*Input{fx.Input()}
			if len(fx.Execs) > 0 {
				inputs = fx.sequenceInputs()
			}
			fired := false
			for _, in := range inputs {
				fired = fired || slices.ContainsFunc(e.Match(in, nil), func(h Hit) bool { return h.Recipe == alone })
			}
			out = append(out, FixtureResult{Recipe: r, Fixture: fx, Fired: fired})
		}
	}
	return out
}

// runnable is a copy of r that is enabled and has no limit.
func runnable(r *Recipe) *Recipe {
	c := *r
	c.Enabled, c.Limit = true, nil
	return &c
}
