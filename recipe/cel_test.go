package recipe

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/vigil-otel/vigil/event"
	"github.com/vigil-otel/vigil/proctable"
)

// TestCELVariablesRead checks that each variable an expression can use
// reads its own fact of the exec.
func TestCELVariablesRead(t *testing.T) {
	scope, err := newCELScope()
	require.NoError(t, err)
	in := (&Fixture{
		Exec: event.Event{
			Kind: event.KindExec, ExePath: "/usr/bin/python3.11", Args: []string{"python3", "x.py"}, Argc: 2,
			Filename: "./x.py", Script: "/w/x.py", Interpreter: "/usr/bin/python3", Cwd: "/w",
			UID: 1000, EUID: 0, GID: 1001, LoginUID: 1002, TTY: "pts/0", ContainerID: "c0ffee",
			CgroupPath: "/ci.slice", Env: map[string]string{"CI": "true"}, SetID: true, Loader: true,
			File: event.File{Memfd: true, Deleted: true, OverlayUpper: true, UserWritable: true},
		},
		Parent:    &proctable.Process{Exe: "/usr/bin/make", Args: []string{"make", "all"}},
		Ancestors: []*proctable.Process{{Exe: "/sbin/init"}},
		PrevExe:   "/usr/bin/env",
	}).Input()
	exprs := map[string]string{
		"exe":           `exe == "/usr/bin/python3.11"`,
		"name":          `name == "python3.11"`,
		"args":          `args == ["python3", "x.py"]`,
		"argc":          `argc == 2`,
		"filename":      `filename == "./x.py"`,
		"script":        `script == "/w/x.py"`,
		"interpreter":   `interpreter == "/usr/bin/python3"`,
		"cwd":           `cwd == "/w"`,
		"uid":           `uid == 1000`,
		"euid":          `euid == 0`,
		"gid":           `gid == 1001`,
		"loginuid":      `loginuid == 1002`,
		"tty":           `tty == "pts/0"`,
		"container_id":  `container_id == "c0ffee"`,
		"cgroup":        `cgroup == "/ci.slice"`,
		"env":           `env["CI"] == "true"`,
		"setid":         `setid`,
		"loader":        `loader`,
		"memfd":         `memfd`,
		"deleted":       `deleted`,
		"overlay_upper": `overlay_upper`,
		"user_writable": `user_writable`,
		"prev_exe":      `prev_exe == "/usr/bin/env"`,
		"parent_exe":    `parent_exe == "/usr/bin/make"`,
		"parent_args":   `parent_args == ["make", "all"]`,
		"ancestors":     `ancestors == ["/usr/bin/make", "/sbin/init"]`,
	}
	for _, v := range celVariables() {
		expr, ok := exprs[v.name]
		require.True(t, ok, "no test of variable %s", v.name)
		prg, _, err := compileCEL(scope, expr)
		require.NoError(t, err, expr)
		require.True(t, prg.eval(&exec{Input: in}), expr)
	}
	require.Len(t, exprs, len(celVariables()))

	// Without a parent or an environment, the variables are empty, not
	// errors.
	orphan := (&Fixture{Exec: event.Event{Kind: event.KindExec, ExePath: "/x"}}).Input()
	prg, _, err := compileCEL(scope, `parent_exe == "" && parent_args == [] && ancestors == [] && env == {}`)
	require.NoError(t, err)
	x := &exec{Input: orphan}
	require.True(t, prg.eval(x))
	require.NoError(t, x.evalErr)
}
