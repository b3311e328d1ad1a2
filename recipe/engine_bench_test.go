package recipe

import (
	"strconv"
	"testing"
	"time"

	"github.com/vigil-otel/vigil/event"
	"github.com/vigil-otel/vigil/proctable"
)

// buildMix is what a CI build execs, mostly: compilers, shells running
// make's recipes, git, package managers, file tools; one in twenty is
// something a recipe fires on.
func buildMix() []*Input {
	make := &proctable.Process{Exe: "/usr/bin/make", Args: []string{"make", "-j2", "test"}}
	runner := &proctable.Process{Exe: "/home/runner/actions-runner/bin/Runner.Worker"}
	mk := func(exe string, parent *proctable.Process, args ...string) *Input {
		fx := Fixture{
			Exec: event.Event{
				Kind: event.KindExec, Time: time.Unix(1700000000, 0), ExePath: exe,
				Args: append([]string{exe}, args...), Cwd: "/home/runner/work/app/app",
				UID: 1001, EUID: 1001, GID: 1001, LoginUID: event.NoLoginUID,
			},
			Parent:    parent,
			Ancestors: []*proctable.Process{runner},
		}
		return fx.Input()
	}
	return []*Input{
		mk("/usr/lib/gcc/x86_64-linux-gnu/12/cc1", make, "-quiet", "src/main.c", "-O2", "-o", "/tmp/ccX.s"),
		mk("/usr/bin/x86_64-linux-gnu-as", make, "--64", "-o", "obj/main.o", "/tmp/ccX.s"),
		mk("/usr/bin/x86_64-linux-gnu-ld.bfd", make, "-o", "bin/app", "obj/main.o", "-lc"),
		mk("/usr/bin/dash", make, "-c", "mkdir -p obj && cc -O2 -c src/util.c -o obj/util.o"),
		mk("/usr/bin/git", runner, "rev-parse", "HEAD"),
		mk("/usr/local/go/bin/go", make, "test", "./..."),
		mk("/usr/local/go/pkg/tool/linux_amd64/compile", make, "-o", "/tmp/go-build/b001/_pkg_.a", "-p", "main"),
		mk("/usr/bin/python3.11", make, "-m", "pytest", "-q", "tests/"),
		mk("/usr/bin/node", make, "/usr/lib/node_modules/npm/bin/npm-cli.js", "ci"),
		mk("/usr/bin/cp", make, "-r", "assets", "dist/"),
		mk("/usr/bin/rm", make, "-rf", "dist/tmp"),
		mk("/usr/bin/sed", make, "-i", "s/VERSION/1.2.3/", "dist/version.txt"),
		mk("/usr/bin/grep", make, "-rn", "TODO", "src/"),
		mk("/usr/bin/tar", make, "-czf", "dist/app.tgz", "bin/app"),
		mk("/usr/bin/chmod", make, "+x", "bin/app"),
		mk("/usr/bin/curl", make, "-fsSLO", "https://example.com/tool.tgz"),
		mk("/usr/bin/ld.gold", make, "-o", "bin/app2"),
		mk("/usr/bin/sort", make, "-u", "files.txt"),
		mk("/usr/bin/cat", make, "VERSION"),
		mk("/usr/bin/zip", make, "-q", "dist/app.zip", "bin/app"),
	}
}

// BenchmarkEngineBuildMix runs the build mix through the full built-in
// catalog. Report events/s per core and allocs/op in bench/README.md.
func BenchmarkEngineBuildMix(b *testing.B) {
	recipes, errs := Builtin()
	if len(errs) > 0 {
		b.Fatal(errs)
	}
	e := engineOf(b, recipes)
	mix := buildMix()
	var dst []Hit
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		dst = e.Match(mix[i%len(mix)], dst[:0])
		i++
	}
}

// BenchmarkEngineNoMatch is an exec that no index key of the catalog
// names: the common case, which must not allocate.
func BenchmarkEngineNoMatch(b *testing.B) {
	recipes, errs := Builtin()
	if len(errs) > 0 {
		b.Fatal(errs)
	}
	e := engineOf(b, recipes)
	in := buildMix()[0]
	var dst []Hit
	b.ReportAllocs()
	for b.Loop() {
		dst = e.Match(in, dst[:0])
	}
}

// flood makes the execs of a flood: each a program of a path never seen,
// under a hidden directory, started by a parent of a path never seen, with
// arguments never seen, by an unprivileged user. Each is a new key of the
// limits of the recipes it fires (hidden_elf_exec_system per executable,
// exec_from_unusual_dir per parent).
type flood struct {
	in     *Input
	parent *proctable.Process
	n      int
	// step is the time between two execs.
	step time.Duration
}

func newFlood(step time.Duration) *flood {
	fx := Fixture{
		Exec:      event.Event{Kind: event.KindExec, Time: time.Unix(1700000000, 0), UID: 65534, EUID: 65534, GID: 65534, LoginUID: event.NoLoginUID, Cwd: "/tmp"},
		Parent:    &proctable.Process{},
		Ancestors: []*proctable.Process{{Exe: "/usr/bin/bash"}},
	}
	in := fx.Input()
	// Numbers of as many digits from the first exec on: each costs the
	// same to make.
	return &flood{in: in, parent: in.up(in.Process), step: step, n: 1_000_000}
}

// next returns the flood's next exec, in place of the last one.
func (f *flood) next() *Input {
	f.n++
	n := strconv.Itoa(f.n)
	f.in.Process.Exe = "/tmp/.x/" + n
	f.in.Process.Args = []string{f.in.Process.Exe, n}
	f.in.Event.ExePath, f.in.Event.Args = f.in.Process.Exe, f.in.Process.Args
	f.in.Event.Time = f.in.Event.Time.Add(f.step)
	f.parent.Exe = "/tmp/.p/" + n
	return f.in
}

// BenchmarkEngineLimitKeys runs a flood through the full built-in catalog,
// with as many keys of each limit live as its sub-benchmark says: the
// execs are spaced so that that many begin in one limit window, and as
// many run out as begin. ns/op must not grow with the keys: compare each
// with live=0 of the same run. Past maxLimitKeys, each exec evicts one.
// The allocations are the flood's own: each exec's path, arguments and
// parent's path.
func BenchmarkEngineLimitKeys(b *testing.B) {
	recipes, errs := Builtin()
	if len(errs) > 0 {
		b.Fatal(errs)
	}
	var window time.Duration
	for _, r := range recipes {
		if r.Name == "hidden_elf_exec_system" {
			window = r.Limit.Window
		}
	}
	if window == 0 {
		b.Fatal("no limited hidden_elf_exec_system in the catalog")
	}
	for _, live := range []int{0, 1000, 10000, 100000} {
		b.Run("live="+strconv.Itoa(live), func(b *testing.B) {
			e := engineOf(b, recipes)
			step := window + 1 // every window has run out at the next exec
			if live > 0 {
				step = window / time.Duration(live)
			}
			f := newFlood(step)
			var dst []Hit
			for range live {
				dst = e.Match(f.next(), dst[:0])
			}
			b.ReportAllocs()
			for b.Loop() {
				dst = e.Match(f.next(), dst[:0])
				if len(dst) != 2 {
					b.Fatalf("%d detections of %s, want 2", len(dst), f.in.Process.Exe)
				}
			}
		})
	}
}
