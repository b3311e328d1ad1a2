package recipe

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/vigil-otel/vigil/event"
)

// TestFailingExpressionIsCountedAndLoggedOnce runs expressions that fail
// at run time: each failure is a non-match counted against its recipe, a
// sequence's step counting against the sequence, and only each recipe's
// first failure is logged.
func TestFailingExpressionIsCountedAndLoggedOnce(t *testing.T) {
	e := engineOf(t, parse(t, `recipes:
  - name: third_arg`+header+`    match:
      executable: {name: env}
      cel: 'args[2] != ""'
  - name: guarded`+header+`    match:
      executable: {name: env}
      cel: 'size(args) > 2 && args[2] == "x"'
  - name: broken_exception`+header+`    match:
      executable: {name: env}
    unless:
      - cel: 'env["NOT_SET"] == "1"'
  - name: broken_step`+header+`    sequence:
      within: 5m
      steps:
        - match: {executable: {name: env}, cel: 'args[5] != ""'}
        - match: {executable: {name: id}}
`))
	var log bytes.Buffer
	e.log = slog.New(slog.NewTextHandler(&log, nil))
	env := func(args ...string) []string {
		in := (&Fixture{Exec: event.Event{Kind: event.KindExec, ExePath: "/usr/bin/env", Args: append([]string{"env"}, args...)}}).Input()
		return names(e.Match(in, nil))
	}

	for range 3 {
		require.Equal(t, []string{"broken_exception"}, env("a"), "a failing exception does not hold")
	}
	require.Equal(t, []string{"third_arg", "guarded", "broken_exception"}, env("a", "x"))
	require.Equal(t, map[string]uint64{"third_arg": 3, "broken_exception": 4, "broken_step": 4}, e.EvalErrors())
	require.Equal(t, uint64(11), e.EvalErrorCount())

	lines := strings.Split(strings.TrimSpace(log.String()), "\n")
	require.Len(t, lines, 3, "one line per recipe: %s", log.String())
	require.Contains(t, lines[0], "recipe=third_arg")
	require.Contains(t, lines[0], "index out of bounds: 2")
	require.Contains(t, lines[1], "recipe=broken_exception")
	require.Contains(t, lines[1], "no such key: NOT_SET")
	require.Contains(t, lines[2], "recipe=broken_step")
}
