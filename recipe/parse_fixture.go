package recipe

import (
	"fmt"
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
		p.at[f] = item
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
		"tree":  func(n *yaml.Node, f string) { p.integer(n, f, &fe.Tree) },
		"after": func(n *yaml.Node, f string) { p.duration(n, f, &fe.After) },
	})
	if n.Kind == yaml.MappingNode && !hasExec {
		p.fail(n, field+".exec", "missing")
	}
}

func (p *parser) fixtureProcess(n *yaml.Node, field string, proc *proctable.Process) {
	p.mapping(n, field, map[string]func(*yaml.Node, string){
		"exe":  func(n *yaml.Node, f string) { p.str(n, f, &proc.Exe) },
		"args": func(n *yaml.Node, f string) { p.strs(n, f, &proc.Args) },
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
		"args":          func(n *yaml.Node, f string) { p.strs(n, f, &ev.Args) },
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
	if ev.Filename == "" {
		ev.Filename = ev.ExePath
	}
	if len(ev.Args) == 0 && ev.ExePath != "" {
		ev.Args = []string{ev.ExePath}
	}
	ev.Argc = uint32(len(ev.Args))
}
