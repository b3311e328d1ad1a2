package pipeline

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/vigil-otel/vigil/exporter"
	"github.com/vigil-otel/vigil/recipe"
	"github.com/vigil-otel/vigil/semconv"
	"github.com/vigil-otel/vigil/spans"
)

// placedAndRunRecipe is a sequence recipe, an item of a recipes list: a
// program copied into place, made executable, then run.
const placedAndRunRecipe = `  - name: placed_and_run
    description: A program copied into place, made executable and run
    tactic: {id: TA0011, name: Command and Control}
    technique: {id: T1105, name: Ingress Tool Transfer}
    importance: high
    sequence:
      within: 1m
      steps:
        - match: {executable: {name: cp}}
          capture: {file: {arg: '^(/.*/payload[0-9]*)$'}}
        - match: {executable: {name: chmod}}
          require: {file: argument}
        - require: {file: executable}
`

// placedAndRun is placedAndRunRecipe, loaded.
func placedAndRun(t *testing.T) []*recipe.Recipe {
	t.Helper()
	recipes, errs := recipe.Parse("test.yaml", []byte("recipes:\n"+placedAndRunRecipe), "test")
	require.Empty(t, errs)
	return recipes
}

// TestSequenceRecipeFiresOnRealExecs runs a sequence recipe over real
// processes, the eBPF sensor watching: a script copies a program into
// place, makes it executable and runs it. The detection is the run's, and
// names the copy and the chmod as its earlier steps; the same three steps
// on two different files fire nothing.
func TestSequenceRecipeFiresOnRealExecs(t *testing.T) {
	rcv, stop := watchedWith(t, spans.None, placedAndRun(t))

	dir := t.TempDir()
	payload := filepath.Join(dir, "payload")
	script := fmt.Sprintf("cp /bin/true %[1]s1 && chmod +x %[1]s2 && cp /bin/true %[1]s2 && %[1]s1; "+
		"cp /bin/true %[1]s && chmod 755 %[1]s && %[1]s", payload)
	require.NoError(t, exec.Command("sh", "-c", script).Run())

	sum := stop()
	require.Equal(t, uint64(1), sum.Detections, "the run of the file copied and made executable, only")
	require.Zero(t, sum.SequenceEvictions)
	recs := rcv.Records()
	require.Len(t, recs, 1)
	attrs := recs[0].Attributes().AsRaw()
	require.Equal(t, "placed_and_run", attrs[string(semconv.SecurityRuleNameKey)])
	require.Equal(t, payload, attrs[string(semconv.ProcessExecutablePathKey)])
	steps, ok := attrs[string(semconv.VigilSequenceStepsKey)].([]any)
	require.True(t, ok, "the earlier steps: %v", attrs)
	require.Len(t, steps, 2)
	require.Regexp(t, `^\d+ cp /bin/true `+payload+`$`, steps[0])
	require.Regexp(t, `^\d+ chmod 755 `+payload+`$`, steps[1])
}

// TestSequenceRecipeReplays replays a recording of the same three steps,
// forks and exits between them: replay runs sequence recipes as the live
// sensor does.
func TestSequenceRecipeReplays(t *testing.T) {
	recording := `{"kind":"exec","time":"2026-11-27T10:00:00Z","pid":10,"ppid":1,"exe_path":"/usr/bin/dash","args":["sh","install.sh"],"argc":2}
{"kind":"fork","time":"2026-11-27T10:00:01Z","pid":11,"ppid":10}
{"kind":"exec","time":"2026-11-27T10:00:01Z","pid":11,"ppid":10,"exe_path":"/usr/bin/cp","args":["cp","/bin/true","/tmp/payload"],"argc":3}
{"kind":"exit","time":"2026-11-27T10:00:01Z","pid":11,"ppid":10}
{"kind":"fork","time":"2026-11-27T10:00:02Z","pid":12,"ppid":10}
{"kind":"exec","time":"2026-11-27T10:00:02Z","pid":12,"ppid":10,"exe_path":"/usr/bin/chmod","args":["chmod","+x","/tmp/payload"],"argc":3}
{"kind":"exit","time":"2026-11-27T10:00:02Z","pid":12,"ppid":10}
{"kind":"fork","time":"2026-11-27T10:00:03Z","pid":13,"ppid":10}
{"kind":"exec","time":"2026-11-27T10:00:03Z","pid":13,"ppid":10,"exe_path":"/tmp/payload","args":["/tmp/payload"],"argc":1}
`
	var out bytes.Buffer
	sum, err := Replay(context.Background(), Config{Recipes: placedAndRun(t), Exporter: exporter.Config{JSONL: &out}}, strings.NewReader(recording))
	require.NoError(t, err)
	require.Equal(t, uint64(1), sum.Detections)
	var obj map[string]any
	require.NoError(t, json.Unmarshal(out.Bytes(), &obj))
	require.Equal(t, "placed_and_run", obj[string(semconv.SecurityRuleNameKey)])
	require.Equal(t, []any{"11 cp /bin/true /tmp/payload", "12 chmod +x /tmp/payload"}, obj[string(semconv.VigilSequenceStepsKey)])
}
