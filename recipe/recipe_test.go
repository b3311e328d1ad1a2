package recipe

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
	"testing/fstest"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/vigil-otel/vigil/event"
	"github.com/vigil-otel/vigil/proctable"
)

func TestBuiltinCatalogHoldsExecExample(t *testing.T) {
	recipes, errs := Builtin()
	require.Empty(t, errs)
	var r *Recipe
	for _, c := range recipes {
		if c.Name == "exec_example" {
			r = c
		}
	}
	require.NotNil(t, r)
	require.Equal(t, "Tool execution example", r.Description)
	require.Equal(t, ATTACK{ID: "TA0002", Name: "Execution"}, r.Tactic)
	require.Equal(t, []Technique{{ATTACK: ATTACK{ID: "T1059", Name: "Command and Scripting Interpreter"}}}, r.Techniques)
	require.Equal(t, Low, r.Importance)
	require.Equal(t, BuiltinRuleset, r.Ruleset)
	require.Equal(t, "vigil/exec_example.yaml:4", r.Source)
	require.True(t, r.Enabled)
	require.NotEmpty(t, r.Documentation.Summary)
	require.Len(t, r.Tests, 4)
}

// execOf builds an input for a program run with args, under a parent.
func execOf(exe string, args []string, parent *proctable.Process) *Input {
	fx := Fixture{Exec: event.Event{Kind: event.KindExec, ExePath: exe, Args: args, Time: time.Unix(1000, 0)}, Parent: parent}
	return fx.Input()
}

func names(hits []Hit) []string {
	var out []string
	for _, h := range hits {
		out = append(out, h.Recipe.Name)
	}
	return out
}

const header = `
    description: d
    tactic: {id: TA0002, name: Execution}
    technique: {id: T1059.004, name: Unix Shell}
    importance: high
`

func parse(t *testing.T, src string) []*Recipe {
	t.Helper()
	recipes, errs := Parse("t.yaml", []byte(src), "test")
	require.Empty(t, errs)
	return recipes
}

// engineOf compiles recipes into an engine, failing the test on an error.
func engineOf(t testing.TB, recipes []*Recipe) *Engine {
	t.Helper()
	e, err := NewEngine(recipes)
	require.NoError(t, err)
	return e
}

// fixtures runs the recipes' own tests, failing the test on an error.
func fixtures(t *testing.T, recipes []*Recipe) []FixtureResult {
	t.Helper()
	res, err := RunFixtures(recipes)
	require.NoError(t, err)
	return res
}

func TestEngineIndexesAndMatches(t *testing.T) {
	e := engineOf(t, parse(t, `recipes:
  - name: by_name`+header+`    match: {executable: {name: [zip, gzip]}}
  - name: by_path`+header+`    match: {executable: {path: /usr/bin/zip}}
  - name: by_dir`+header+`    match: {executable: {dir: [/tmp, /dev/shm]}}
  - name: by_prefix`+header+`    match: {executable: {path: {prefix: /var/tmp/}}}
  - name: by_arg`+header+`    match: {args: {any: [--exec, -e]}}
  - name: by_glob`+header+`    match: {executable: {name: {glob: "ld-*.so*"}}}
  - name: by_name_prefix`+header+`    match: {executable: {name: {prefix: python}}, args: {any: -c}}
  - name: by_name_or_prefix`+header+`    match: {executable: {name: {exact: node, prefix: ruby}}, args: {any: -e}}
  - name: by_any_of`+header+`    match:
      any_of:
        - executable: {name: hydra}
        - executable: {name: {prefix: perl}}
          args: {any: {suffix: /medusa.pl}}
  - name: off`+header+`    enabled: false
    match: {executable: {name: zip}}
`))
	for exe, want := range map[string][]string{
		"/usr/bin/zip":                       {"by_name", "by_path"},
		"/tmp/x/zip":                         {"by_name"},
		"/tmp/zap":                           {"by_dir"},
		"/var/tmp/a/b":                       {"by_prefix"},
		"/lib64/ld-linux-x86-64.so.2":        {"by_glob"},
		"/usr/bin/unzip":                     nil,
		"/usr/lib/x86_64-linux-gnu/zip.so.1": nil,
	} {
		require.Equal(t, want, names(e.Match(execOf(exe, []string{"x"}, nil), nil)), exe)
	}
	require.Equal(t, []string{"by_arg"}, names(e.Match(execOf("/usr/bin/nc", []string{"nc", "-e", "/bin/sh", "--exec"}, nil), nil)), "once, though two arguments hit")
	require.Equal(t, []string{"by_name_prefix"}, names(e.Match(execOf("/usr/bin/python3.11", []string{"python3", "-c", "print(1)"}, nil), nil)))
	require.Equal(t, []string{"by_any_of"}, names(e.Match(execOf("/usr/bin/hydra", []string{"hydra", "-l", "root"}, nil), nil)))
	require.Equal(t, []string{"by_any_of"}, names(e.Match(execOf("/usr/bin/perl5.36", []string{"perl", "/opt/medusa.pl"}, nil), nil)))
	require.Empty(t, names(e.Match(execOf("/usr/bin/perl5.36", []string{"perl", "build.pl"}, nil), nil)))
	require.Equal(t, []string{"by_name_or_prefix", "by_arg"}, names(e.Match(execOf("/usr/bin/ruby3.1", []string{"ruby", "-e", "x"}, nil), nil)))
	require.Equal(t, []string{"by_name_or_prefix", "by_arg"}, names(e.Match(execOf("/usr/bin/node", []string{"node", "-e", "x"}, nil), nil)))
	require.Len(t, e.residual, 1, "only the glob has no index key")
	require.Equal(t, "by_glob", e.residual[0].name)
	require.Len(t, e.enabled, 9, "the disabled one is not filed")

	in := execOf("/usr/bin/unzip", []string{"unzip", "-l", "x.zip"}, nil)
	allocs := testing.AllocsPerRun(100, func() { e.Match(in, nil) })
	require.Zero(t, allocs, "a non-matching exec allocates nothing")
}

func TestMatchFields(t *testing.T) {
	e := engineOf(t, parse(t, `recipes:
  - name: shell_from_python`+header+`    match:
      executable: {name: [sh, bash]}
      parent: {executable: {name: {regex: "^python[0-9.]*$"}}}
  - name: web_shell`+header+`    match:
      executable: {name: [sh, bash]}
      ancestor: {executable: {name: nginx}, depth: 3}
  - name: reverse_shell`+header+`    match:
      executable: {name: nc}
      args: {all: [-e, {suffix: sh}], none: [--help], min_count: 2}
  - name: chained`+header+`    match:
      executable: {name: curl}
      previous_executable: {suffix: /bash}
  - name: root_fileless`+header+`    match:
      executable: {path: {prefix: /}}
      memfd: true
      user: {euid: 0}
  - name: by_cel`+header+`    match:
      executable: {name: env}
      cel: 'args.exists(a, a.startsWith("LD_PRELOAD=")) && cwd != "/"'
  - name: excepted`+header+`    match:
      executable: {name: chmod}
    unless:
      - args: {any: {prefix: ./}}
`))
	fire := func(fx Fixture) []string { return names(e.Match(fx.Input(), nil)) }
	exec := func(exe string, args ...string) event.Event {
		return event.Event{Kind: event.KindExec, ExePath: exe, Args: append([]string{exe}, args...), Cwd: "/home/u"}
	}
	py := &proctable.Process{Exe: "/usr/bin/python3.11"}

	require.Equal(t, []string{"shell_from_python"}, fire(Fixture{Exec: exec("/bin/sh", "-c", "id"), Parent: py}))
	require.Empty(t, fire(Fixture{Exec: exec("/bin/sh"), Parent: &proctable.Process{Exe: "/usr/bin/make"}}))
	require.Equal(t, []string{"web_shell"}, fire(Fixture{Exec: exec("/bin/bash"),
		Parent: &proctable.Process{Exe: "/usr/bin/php"}, Ancestors: []*proctable.Process{{Exe: "/usr/sbin/nginx"}}}))
	require.Empty(t, fire(Fixture{Exec: exec("/bin/bash"), Parent: &proctable.Process{Exe: "/a"},
		Ancestors: []*proctable.Process{{Exe: "/b"}, {Exe: "/c"}, {Exe: "/usr/sbin/nginx"}}}), "beyond depth 3")

	require.Equal(t, []string{"reverse_shell"}, fire(Fixture{Exec: exec("/bin/nc", "-e", "/bin/sh", "10.0.0.1")}))
	require.Empty(t, fire(Fixture{Exec: exec("/bin/nc", "-e", "/bin/sh", "--help")}), "none")
	require.Empty(t, fire(Fixture{Exec: exec("/bin/nc", "-e", "/bin/ls")}), "all")

	require.Equal(t, []string{"chained"}, fire(Fixture{Exec: exec("/usr/bin/curl"), PrevExe: "/usr/bin/bash"}))
	require.Empty(t, fire(Fixture{Exec: exec("/usr/bin/curl")}))

	fileless := exec("/memfd:x")
	fileless.File.Memfd = true
	require.Equal(t, []string{"root_fileless"}, fire(Fixture{Exec: fileless}))
	fileless.EUID = 1000
	require.Empty(t, fire(Fixture{Exec: fileless}))

	require.Equal(t, []string{"by_cel"}, fire(Fixture{Exec: exec("/usr/bin/env", "LD_PRELOAD=/tmp/x.so", "id")}))
	require.Empty(t, fire(Fixture{Exec: exec("/usr/bin/env", "id")}))

	require.Equal(t, []string{"excepted"}, fire(Fixture{Exec: exec("/bin/chmod", "+x", "/usr/local/bin/x")}))
	require.Empty(t, fire(Fixture{Exec: exec("/bin/chmod", "+x", "./build.sh")}), "unless")
}

// TestEnvMatch checks the env field: every variable it names is set and
// matches, {} asks only that one be set, and a recipe with no other key is
// filed under its first variable, so that an exec without it costs nothing.
func TestEnvMatch(t *testing.T) {
	e := engineOf(t, parse(t, `recipes:
  - name: preload_tmp`+header+`    match:
      env: {LD_PRELOAD: {prefix: [/tmp/, /dev/shm/]}}
  - name: preload_and_path`+header+`    match:
      env: {LD_PRELOAD: {}, LD_LIBRARY_PATH: {contains: /tmp}}
  - name: preload_setid`+header+`    match:
      setid: true
      env: {LD_PRELOAD: {}}
    unless:
      - env: {LD_PRELOAD: {prefix: /usr/lib/}}
`))
	require.Empty(t, e.residual)
	require.Equal(t, []string{"LD_PRELOAD"}, e.envNames, "filed under the first variable each names")
	fire := func(env map[string]string, setid bool) []string {
		in := execOf("/usr/bin/id", []string{"id"}, nil)
		in.Event.Env, in.Event.SetID = env, setid
		return names(e.Match(in, nil))
	}
	require.Equal(t, []string{"preload_tmp"}, fire(map[string]string{"LD_PRELOAD": "/tmp/x.so"}, false))
	require.Equal(t, []string{"preload_tmp", "preload_and_path"},
		fire(map[string]string{"LD_PRELOAD": "/dev/shm/x.so", "LD_LIBRARY_PATH": "/tmp/lib"}, false))
	require.Equal(t, []string{"preload_setid"}, fire(map[string]string{"LD_PRELOAD": ""}, true), "set, though empty")
	require.Empty(t, fire(map[string]string{"LD_PRELOAD": "/usr/lib/x86_64-linux-gnu/libjemalloc.so.2"}, true), "unless")
	require.Empty(t, fire(map[string]string{"LD_LIBRARY_PATH": "/tmp/lib"}, false), "LD_PRELOAD unset")
	require.Empty(t, fire(nil, true))

	in := execOf("/usr/bin/make", []string{"make"}, nil)
	in.Event.Env = map[string]string{"CI": "true", "GITHUB_JOB": "build"}
	require.Zero(t, testing.AllocsPerRun(100, func() { e.Match(in, nil) }))

	_, errs := Parse("t.yaml", []byte(`recipes:
  - name: bad`+header+`    match:
      env: {"A=B": {}, LD_PRELOAD: [x], "": {}}
`), "test")
	require.Len(t, errs, 2)
	require.ErrorContains(t, errs[0], `field match.env.A=B: "A=B" is not an environment variable name`)
	require.ErrorContains(t, errs[1], `field match.env.: "" is not an environment variable name`)
}

func TestBrokenRecipeIsLocatedAndAlone(t *testing.T) {
	src := `recipes:
  - name: good
    description: fine
    tactic: {id: TA0042, name: Resource Development}
    technique: {id: T1059, name: Command and Scripting Interpreter}
    importance: low
    match: {executable: {name: zip}}
  - name: bad
    description: broken importance
    tactic: {id: TA0042, name: Resource Development}
    technique: {id: T1059, name: Command and Scripting Interpreter}
    importance: urgent
    match:
      executable:
        name: {regex: "(unclosed"}
  - description: no name
    tactic: {id: TA42, name: Resource Development}
    technique: {id: T1059, name: Command and Scripting Interpreter}
    importance: low
    colour: red
    match: {cel: 'exe + 1'}
`
	recipes, errs := Parse("recipes/broken.yaml", []byte(src), "test")
	require.Len(t, recipes, 1)
	require.Equal(t, "good", recipes[0].Name)

	var msgs []string
	for _, err := range errs {
		msgs = append(msgs, err.Error())
	}
	// Each recipe's in the order of the file: what is missing at the
	// recipe's own line.
	require.Len(t, msgs, 6)
	require.Equal(t, `recipes/broken.yaml:12:17: recipe "bad": field importance: want one of low, medium, high, critical, got "urgent"`, msgs[0])
	require.Contains(t, msgs[1], `recipes/broken.yaml:15:23: recipe "bad": field match.executable.name.regex: error parsing regexp: missing closing )`)
	require.Equal(t, `recipes/broken.yaml:16:5: field name: missing`, msgs[2])
	require.Equal(t, `recipes/broken.yaml:17:18: field tactic.id: "TA42" is not a MITRE ATT&CK id like TA0042`, msgs[3])
	require.Contains(t, msgs[4], `recipes/broken.yaml:20:5: field colour: unknown field, want one of `)
	require.Contains(t, msgs[5], `recipes/broken.yaml:21:18: field match.cel: `)
	var e *Error
	require.ErrorAs(t, errs[0], &e)
	require.Equal(t, Error{File: "recipes/broken.yaml", Line: 12, Column: 17, Recipe: "bad", Field: "importance",
		Reason: `want one of low, medium, high, critical, got "urgent"`}, *e)
}

// TestATTACKNames checks what the loader makes of a recipe's ATT&CK
// names: a sub-technique gets its technique from ATT&CK's table, a
// recipe may name several, and ids and tactic names that ATT&CK does not
// have are located errors.
func TestATTACKNames(t *testing.T) {
	const rest = `
    importance: low
    match: {executable: {name: zip}}
`
	recipes, errs := Parse("a.yaml", []byte(`recipes:
  - name: several
    description: d
    tactic: {id: TA0011, name: Command and Control}
    techniques:
      - {id: T1105, name: Ingress Tool Transfer}
      - {id: T1059.004, name: Unix Shell}`+rest), "test")
	require.Empty(t, errs)
	require.Equal(t, []Technique{
		{ATTACK: ATTACK{ID: "T1105", Name: "Ingress Tool Transfer"}},
		{ATTACK: ATTACK{ID: "T1059", Name: "Command and Scripting Interpreter"}, Sub: ATTACK{ID: "T1059.004", Name: "Unix Shell"}},
	}, recipes[0].Techniques)
	require.Equal(t, "T1105 Ingress Tool Transfer, T1059.004 Unix Shell", recipes[0].TechniqueLabel())

	for _, c := range []struct{ attack, err string }{
		{"tactic: {id: TA0005, name: Defense Evasion}\n    technique: {id: T1027, name: Obfuscated Files or Information}",
			`b.yaml:4:32: recipe "r": field tactic.name: ATT&CK v19 calls TA0005 "Stealth", not "Defense Evasion"`},
		{"tactic: {id: TA0099, name: Nothing}\n    technique: {id: T1027, name: Obfuscated Files or Information}",
			`b.yaml:4:18: recipe "r": field tactic.id: TA0099 is not an ATT&CK v19 Enterprise tactic`},
		{"tactic: {id: TA0005, name: Stealth}\n    technique: {id: T1562.001, name: Disable or Modify Tools}",
			`b.yaml:5:21: recipe "r": field technique.id: T1562.001 is not an ATT&CK v19 Enterprise technique (revoked and deprecated ones are not: https://attack.mitre.org/techniques/T1562/001/ names the one that replaced it)`},
		{"tactic: {id: TA0005, name: Stealth}\n    techniques: [{id: T1027, name: Obfuscated Files or Information}, {id: T1562.001, name: Disable or Modify Tools}]",
			`b.yaml:5:75: recipe "r": field techniques[1].id: T1562.001 is not an ATT&CK v19 Enterprise technique (revoked and deprecated ones are not: https://attack.mitre.org/techniques/T1562/001/ names the one that replaced it)`},
		{"tactic: {id: TA0005, name: Stealth}\n    techniques: []",
			`b.yaml:5:17: recipe "r": field technique: missing: name at least one ATT&CK technique`},
		{"tactic: {id: TA0005}\n    technique: {id: T1027, name: Obfuscated Files or Information}",
			`b.yaml:4:13: recipe "r": field tactic: needs both id and name`},
		{"tactic: {id: TA0005, name: Stealth}\n    technique: {id: T1027, name: Obfuscated Files or Information}\n    techniques: [{id: T1140, name: Deobfuscate/Decode Files or Information}]",
			`b.yaml:6:17: recipe "r": field techniques: a recipe names its techniques under technique (one) or techniques (several), not both`},
	} {
		_, errs := Parse("b.yaml", []byte("recipes:\n  - name: r\n    description: d\n    "+c.attack+rest), "test")
		require.Len(t, errs, 1, c.attack)
		require.EqualError(t, errs[0], c.err)
	}
}

// TestSyntaxErrorNamesTheLine: a syntax error is placed at its line and
// column, with where the construct it broke began.
func TestSyntaxErrorNamesTheLine(t *testing.T) {
	for _, c := range []struct{ yaml, err string }{
		{"recipes:\n  - name: a\n    description: b\n    tactic: x: y\n",
			"x.yaml:4:14: mapping values are not allowed in this context"},
		{"recipes:\n  - name: a\n    match: {executable: {name: zip}\n  - name: b\n",
			"x.yaml:4:3: did not find expected ',' or '}' (while parsing a flow mapping from line 3, column 12)"},
	} {
		_, errs := Parse("x.yaml", []byte(c.yaml), "test")
		require.Len(t, errs, 1)
		require.EqualError(t, errs[0], c.err)
	}
}

func TestOneBrokenFileLeavesTheOthers(t *testing.T) {
	const fine = `
  - name: fine
    description: d
    tactic: {id: TA0042, name: Resource Development}
    technique: {id: T1059, name: Command and Scripting Interpreter}
    importance: medium
    match: {executable: {path: /usr/bin/zip}}`
	fsys := fstest.MapFS{
		"a.yaml": {Data: []byte("recipes: [\n")},
		"b.yaml": {Data: []byte("recipes:" + fine + fine + "\n")}, // the same name twice
	}
	recipes, errs := LoadFS(fsys, "mine")
	require.Len(t, recipes, 1)
	require.Equal(t, Medium, recipes[0].Importance)
	require.Len(t, errs, 2)
	require.ErrorContains(t, errs[0], "mine/a.yaml:2:1: did not find expected node content")
	require.EqualError(t, errs[1], `mine/b.yaml:8: recipe "fine" is already defined at mine/b.yaml:2`)
}

// TestCatalogSparesBenignExecs checks that the execs of a build that fire
// no recipe of the built-in catalog allocate nothing: no CEL expression
// runs and no limit key is built for them.
func TestCatalogSparesBenignExecs(t *testing.T) {
	recipes, errs := Builtin()
	require.Empty(t, errs)
	e := engineOf(t, recipes)
	benign := 0
	for _, in := range buildMix() {
		if len(e.Match(in, nil)) > 0 {
			continue
		}
		benign++
		if raceEnabled {
			continue // the race detector makes the regexp package allocate
		}
		allocs := testing.AllocsPerRun(20, func() { e.Match(in, nil) })
		require.Zero(t, allocs, in.Process.Exe)
	}
	require.Greater(t, benign, 15)
}

func TestMissingFieldsInOrder(t *testing.T) {
	for range 5 {
		_, errs := Parse("m.yaml", []byte("recipes:\n  - enabled: true\n"), "test")
		var fields []string
		for _, err := range errs {
			var e *Error
			require.ErrorAs(t, err, &e)
			fields = append(fields, e.Field)
		}
		require.Equal(t, []string{"name", "description", "tactic", "technique", "importance", "match"}, fields)
	}
}

// TestEmptyMatchIsAnError refuses a match that tests nothing, which
// would fire on every exec; a sequence's step may test nothing.
func TestEmptyMatchIsAnError(t *testing.T) {
	_, errs := Parse("e.yaml", []byte("recipes:\n  - name: e"+header+"    match: {}\n"), "test")
	require.Len(t, errs, 1)
	require.EqualError(t, errs[0], `e.yaml:7:12: recipe "e": field match: missing, or empty: the recipe would fire on every exec`)
	parse(t, "recipes:\n  - name: s"+header+"    sequence: {steps: [{match: {executable: {name: curl}}}, {}]}\n")
}

// TestSupersedes gives an exec the stronger recipe's detection only, even
// where the stronger recipe's own exceptions cancel it, and only while it
// is enabled.
func TestSupersedes(t *testing.T) {
	const src = `recipes:
  - name: any_chmod` + header + `    match: {executable: {name: chmod}}
  - name: setuid_chmod` + header + `    supersedes: [any_chmod]
    match: {executable: {name: chmod}, args: {any: u+s}}
    unless: [{cwd: /build}]
`
	recipes := parse(t, src)
	e := engineOf(t, recipes)
	chmod := func(cwd string, args ...string) *Input {
		in := execOf("/usr/bin/chmod", append([]string{"chmod"}, args...), nil)
		in.Event.Cwd = cwd
		return in
	}
	require.Equal(t, []string{"any_chmod"}, names(e.Match(chmod("/", "+x", "f"), nil)))
	require.Equal(t, []string{"setuid_chmod"}, names(e.Match(chmod("/", "u+s", "f"), nil)))
	require.Empty(t, names(e.Match(chmod("/build", "u+s", "f"), nil)), "a case the stronger recipe ignores stays ignored")

	recipes[1].Enabled = false
	require.Equal(t, []string{"any_chmod"}, names(engineOf(t, recipes).Match(chmod("/", "u+s", "f"), nil)),
		"without the stronger recipe, the weaker one reports")

	// The weaker recipe's tests run with the stronger one beside it.
	recipes[1].Enabled = true
	recipes[0].Tests = []Fixture{{Name: "setuid", Expect: false,
		Exec: event.Event{Kind: event.KindExec, ExePath: "/usr/bin/chmod", Args: []string{"chmod", "u+s", "f"}}}}
	res := fixtures(t, recipes)
	require.Len(t, res, 1)
	require.True(t, res[0].Passed())
}

func TestSupersedesErrors(t *testing.T) {
	_, errs := Parse("t.yaml", []byte(`recipes:
  - name: a`+header+`    supersedes: [Not-A-Name]
    match: {executable: {name: x}}
`), "test")
	require.Len(t, errs, 1)
	require.ErrorContains(t, errs[0], `t.yaml:7:18: recipe "a": field supersedes[0]: "Not-A-Name" is not a recipe name`)

	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "r.yaml"), []byte(`recipes:
  - name: mine`+header+`    supersedes: [hidden_elf_exec, hiden_elf_exec, mine]
    match: {executable: {name: x}}
`), 0o644))
	recipes, errs := LoadCatalog([]string{dir})
	require.Len(t, errs, 2)
	require.ErrorContains(t, errs[0], `r.yaml:2: recipe "mine": supersedes "hiden_elf_exec", which is not a recipe of the catalog; that relation is ignored`)
	require.ErrorContains(t, errs[1], `recipe "mine": supersedes itself`)
	require.True(t, slices.ContainsFunc(recipes, func(r *Recipe) bool { return r.Name == "mine" }), "the recipe itself is kept")
}
