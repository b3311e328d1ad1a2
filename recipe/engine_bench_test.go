package recipe

import (
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
