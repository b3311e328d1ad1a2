package describe

import (
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/log"

	"github.com/vigil-otel/vigil/detection"
	"github.com/vigil-otel/vigil/event"
	"github.com/vigil-otel/vigil/proctable"
	"github.com/vigil-otel/vigil/recipe"
	"github.com/vigil-otel/vigil/semconv"
)

// sample is a detection of exec_example on a zip run with args, under a
// chain of three ancestors.
type sample struct {
	hit       recipe.Hit
	exec      *event.Event
	process   *proctable.Process
	ancestors []*proctable.Process
}

func newSample(args ...string) *sample {
	when := time.Date(2026, 11, 27, 9, 13, 28, 123456789, time.UTC)
	return &sample{
		hit: recipe.Hit{Recipe: &recipe.Recipe{
			Name:        "exec_example",
			Description: "Tool execution example",
			Tactic:      recipe.ATTACK{ID: "TA0042", Name: "Resource Development"},
			Techniques: []recipe.Technique{
				{ATTACK: recipe.ATTACK{ID: "T1105", Name: "Ingress Tool Transfer"}},
				{ATTACK: recipe.ATTACK{ID: "T1059", Name: "Command and Scripting Interpreter"}, Sub: recipe.ATTACK{ID: "T1059.004", Name: "Unix Shell"}},
			},
			Importance: recipe.Critical,
			Version:    2,
			Reference:  "https://example.com/exec_example",
			Ruleset:    "vigil",
		}},
		exec:    &event.Event{Kind: event.KindExec, Time: when, PID: 4242, PPID: 4200, UID: 1000, EUID: 1000, Argc: uint32(len(args))},
		process: &proctable.Process{PID: 4242, PPID: 4200, Exe: "/usr/bin/zip", Args: args},
		ancestors: []*proctable.Process{
			{PID: 4200, PPID: 4100, Exe: "/usr/bin/bash", Args: []string{"bash", "-c", "zip x.zip \x1b[2J"}},
			{PID: 4100, PPID: 4000, Exe: "/usr/bin/make"},
			{PID: 4000, PPID: 1, Exe: "/usr/bin/deploy", Args: []string{"deploy", "--password=hunter2"}},
		},
	}
}

// record describes s as the pipeline does: its exec once, then the
// detection on it.
func (s *sample) record(t *testing.T) detection.Record {
	t.Helper()
	d, err := New(nil)
	require.NoError(t, err)
	return d.Detection(s.hit, s.process, d.Exec(s.process, s.exec), s.ancestors)
}

// flat is the record's attributes by key, as a backend sees them.
func flat(rec detection.Record) map[string]any {
	out := make(map[string]any)
	for _, kvs := range [][]attribute.KeyValue{rec.Rule, rec.Exec.Attributes, rec.Exec.Job, rec.Context} {
		for _, kv := range kvs {
			out[string(kv.Key)] = kv.Value.AsInterface()
		}
	}
	return out
}

func TestRecordCarriesTheDetection(t *testing.T) {
	rec := newSample("zip", "-q", "x.zip", "bad\xffutf8").record(t)
	require.Equal(t, log.SeverityFatal, rec.Severity)
	require.Equal(t, "FATAL", rec.SeverityText)
	require.Equal(t, "Tool execution example: /usr/bin/zip ran as pid 4242", rec.Body)
	require.Equal(t, time.Date(2026, 11, 27, 9, 13, 28, 123456789, time.UTC), rec.Exec.Time)
	require.Equal(t, "exec zip", rec.Exec.SpanName)
	require.Equal(t, map[string]any{
		string(semconv.SecurityRuleNameKey):        "exec_example",
		string(semconv.SecurityRuleDescriptionKey): "Tool execution example",
		string(semconv.SecurityRuleCategoryKey):    "Resource Development",
		string(semconv.SecurityRuleRulesetNameKey): "vigil",
		string(semconv.SecurityRuleVersionKey):     "2",
		string(semconv.SecurityRuleReferenceKey):   "https://example.com/exec_example",
		string(semconv.ThreatFrameworkKey):         "MITRE ATT&CK",
		string(semconv.ThreatTacticIDKey):          "TA0042",
		string(semconv.ThreatTacticNameKey):        "Resource Development",
		// Techniques and sub-techniques apart, as ECS files them.
		string(semconv.ThreatTechniqueIDKey):               []string{"T1105", "T1059"},
		string(semconv.ThreatTechniqueNameKey):             []string{"Ingress Tool Transfer", "Command and Scripting Interpreter"},
		string(semconv.ThreatTechniqueSubtechniqueIDKey):   []string{"T1059.004"},
		string(semconv.ThreatTechniqueSubtechniqueNameKey): []string{"Unix Shell"},
		string(semconv.ProcessPIDKey):                      int64(4242),
		string(semconv.ProcessParentPIDKey):                int64(4200),
		string(semconv.ProcessExecutablePathKey):           "/usr/bin/zip",
		string(semconv.ProcessExecutableNameKey):           "zip",
		string(semconv.ProcessCommandArgsKey):              []string{"zip", "-q", "x.zip", "bad\uFFFDutf8"},
		string(semconv.ProcessArgsCountKey):                int64(4),
		string(semconv.ProcessUserIDKey):                   int64(1000),
		string(semconv.ProcessRealUserIDKey):               int64(1000),
		string(semconv.ProcessInteractiveKey):              false,
		string(semconv.VigilRecipeImportanceKey):           "critical",
		// Redacted, quoted where an argument holds spaces or escapes, and
		// the executable's path for a process without arguments.
		string(semconv.VigilProcessAncestorsKey): []string{`4200 bash -c "zip x.zip \x1b[2J"`, "4100 /usr/bin/make", "4000 deploy --password=[REDACTED]"},
	}, flat(rec))
}

// TestCutCommandLineIsFlagged: an exec whose command line the sensor cut
// says so, with the kernel's count of its arguments, on its detections
// and its span alike, within the room its attributes were made with; one
// that was not cut, or read from a recording without the count, says its
// own count and no more.
func TestCutCommandLineIsFlagged(t *testing.T) {
	d, err := New(nil)
	require.NoError(t, err)
	attrs := func(s *sample) map[string]any {
		ex := d.Exec(s.process, s.exec)
		require.Equal(t, len(ex.Attributes)+detection.SpanRoom, cap(ex.Attributes), "one allocation of the exact size")
		return flat(d.Detection(s.hit, s.process, ex, nil))
	}

	s := newSample("zip", "-q", "x.zip", "a", "b")
	s.process.Args = s.process.Args[:3]
	s.exec.ArgsTruncated = true
	got := attrs(s)
	require.Equal(t, []string{"zip", "-q", "x.zip"}, got[string(semconv.ProcessCommandArgsKey)])
	require.Equal(t, int64(5), got[string(semconv.ProcessArgsCountKey)])
	require.Equal(t, true, got[string(semconv.VigilProcessArgsTruncatedKey)])

	got = attrs(newSample("zip", "-q"))
	require.Equal(t, int64(2), got[string(semconv.ProcessArgsCountKey)])
	require.NotContains(t, got, string(semconv.VigilProcessArgsTruncatedKey))

	s = newSample("zip", "-q", "x.zip")
	s.exec.Argc = 0
	require.Equal(t, int64(3), attrs(s)[string(semconv.ProcessArgsCountKey)], "a recording without the count")
}

// TestDetectionsShareTheirExec: the detections of one exec carry the
// description it got once, and those of one recipe its rule's.
func TestDetectionsShareTheirExec(t *testing.T) {
	s := newSample("zip")
	d, err := New(nil)
	require.NoError(t, err)
	ex := d.Exec(s.process, s.exec)
	a := d.Detection(s.hit, s.process, ex, nil)
	b := d.Detection(s.hit, s.process, ex, nil)
	require.Same(t, ex, a.Exec)
	require.Same(t, &a.Rule[0], &b.Rule[0], "one rule description per recipe")
	require.Nil(t, a.Context, "no ancestors, no steps")
}

func TestSequenceSteps(t *testing.T) {
	s := newSample("sh", "/tmp/x")
	s.hit.Steps = []recipe.Step{
		{PID: 10, Exe: "/usr/bin/curl", Args: []string{"curl", "-o", "/tmp/x", "https://bob:s3cr3t@example.com/x"}},
		{PID: 11, Exe: "/usr/bin/chmod", Args: []string{"chmod", "+x", "/tmp/x"}},
	}
	s.ancestors = nil
	require.Equal(t, []string{"10 curl -o /tmp/x https://bob:[REDACTED]@example.com/x", "11 chmod +x /tmp/x"},
		flat(s.record(t))[string(semconv.VigilSequenceStepsKey)])
}

func TestExportedStringsAreRedactedAndBounded(t *testing.T) {
	huge := strings.Repeat("é", maxString) // two bytes each
	s := newSample("zip", "--password=hunter2", "-q", "https://bob:s3cr3t@example.com/x", huge, "a\x80b")
	s.exec.Cwd = "/home/bob/ghp_" + strings.Repeat("A", 36)
	s.ancestors[0].Args = append(slices.Repeat([]string{huge}, 1000), "--password=hunter2")
	s.ancestors = slices.Repeat(s.ancestors, 10)
	attrs := flat(s.record(t))

	for k, v := range attrs {
		for _, secret := range []string{"hunter2", "s3cr3t", "ghp_AAAA"} {
			require.NotContains(t, strings.Join(strs(v), " "), secret, k)
		}
	}
	args := attrs[string(semconv.ProcessCommandArgsKey)].([]string)
	require.Equal(t, "--password=[REDACTED]", args[1])
	require.Equal(t, "https://bob:[REDACTED]@example.com/x", args[3])
	require.LessOrEqual(t, len(args[4]), maxString)
	require.True(t, strings.HasSuffix(args[4], "…"))
	require.Equal(t, "a\uFFFDb", args[5], "valid UTF-8")
	chain := attrs[string(semconv.VigilProcessAncestorsKey)].([]string)
	require.Len(t, chain, maxAncestors)
	require.LessOrEqual(t, len(chain[0]), maxAncestorLine)
	require.True(t, strings.HasPrefix(chain[0], "4200 "+huge[:100]))
	require.True(t, strings.HasSuffix(chain[0], "…"))
}

// TestPathsKept: an executable and a working directory are made safe once
// and kept, at most maxPaths of each; a longer path than maxKeptPath is
// made safe each time and not kept, redacted all the same.
func TestPathsKept(t *testing.T) {
	d, err := New(nil)
	require.NoError(t, err)
	s := newSample("zip")
	s.exec.Cwd = "/home/bob/ghp_" + strings.Repeat("A", 36)
	for range 2 {
		attrs := map[attribute.Key]string{}
		for _, kv := range d.Exec(s.process, s.exec).Attributes {
			attrs[kv.Key] = kv.Value.String()
		}
		require.Equal(t, "/usr/bin/zip", attrs[semconv.ProcessExecutablePathKey])
		require.Equal(t, "zip", attrs[semconv.ProcessExecutableNameKey])
		require.NotContains(t, attrs[semconv.ProcessWorkingDirectoryKey], "ghp_AAAA")
	}
	require.Len(t, d.programs.m, 1)
	require.Len(t, d.dirs.m, 1)

	long := &proctable.Process{PID: 1, Exe: "/opt/" + strings.Repeat("x", maxKeptPath) + "/ghp_" + strings.Repeat("B", 36)}
	ex := d.Exec(long, s.exec)
	require.NotContains(t, ex.Executable, "ghp_BBBB")
	require.Equal(t, semconv.ExecSpanPrefix+filepath.Base(ex.Executable), ex.SpanName)
	require.Len(t, d.programs.m, 1, "a long path is not kept")

	for i := range 2 * maxPaths {
		d.Exec(&proctable.Process{PID: 1, Exe: fmt.Sprintf("/usr/bin/p%d", i)}, s.exec)
	}
	require.LessOrEqual(t, len(d.programs.m), maxPaths)
}

// strs is an attribute value's strings: itself, or its elements.
func strs(v any) []string {
	switch v := v.(type) {
	case string:
		return []string{v}
	case []string:
		return v
	}
	return nil
}

// TestLoaderVariables: the loader's variables go out when set, empty ones
// too, redacted like the rest; the other variables the sensor read do not.
func TestLoaderVariables(t *testing.T) {
	s := newSample("zip")
	s.exec.Env = map[string]string{
		"LD_PRELOAD":  "/tmp/.x/libhide.so https://bob:s3cr3t@example.com/x",
		"LD_AUDIT":    "",
		"TRACEPARENT": "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
		"HOME":        "/root",
	}
	env := map[string]any{}
	prefix := string(semconv.ProcessEnvironmentVariable("", "").Key)
	for k, v := range flat(s.record(t)) {
		if name, ok := strings.CutPrefix(k, prefix); ok {
			env[name] = v
		}
	}
	require.Equal(t, map[string]any{
		"LD_PRELOAD": "/tmp/.x/libhide.so https://bob:[REDACTED]@example.com/x",
		"LD_AUDIT":   "",
	}, env)
}

func TestPodOfTheProcess(t *testing.T) {
	s := newSample("zip")
	s.exec.ContainerID = strings.Repeat("ab", 32)
	s.exec.PodUID = "0a1b2c3d-1111-2222-3333-444455556666"
	attrs := flat(s.record(t))
	require.Equal(t, "0a1b2c3d-1111-2222-3333-444455556666", attrs[string(semconv.K8SPodUIDKey)], "what k8sattributes associates by")
	require.Equal(t, strings.Repeat("ab", 32), attrs[string(semconv.ContainerIDKey)])
}

func TestRunSpan(t *testing.T) {
	d, err := New(nil)
	require.NoError(t, err)
	name, attrs := d.Run([]string{"/usr/bin/make", "deploy", "--token=ghp_" + strings.Repeat("A", 36)})
	require.Equal(t, "vigil run make", name)
	require.Equal(t, []attribute.KeyValue{semconv.ProcessCommandArgsKey.StringSlice([]string{"/usr/bin/make", "deploy", "--token=[REDACTED]"})}, attrs)
}

// TestJobOfEachProcess: processes of two jobs on one runner each get their
// own job's attributes, however often they alternate, redacted alike.
func TestJobOfEachProcess(t *testing.T) {
	d, err := New(nil)
	require.NoError(t, err)
	job := func(run string) map[string]string {
		return map[string]string{"GITHUB_ACTIONS": "true", "GITHUB_RUN_ID": run, "GITHUB_JOB": "test",
			"GITHUB_SERVER_URL": "https://bob:s3cr3t@github.example.com", "GITHUB_REPOSITORY": "acme/app", "LD_PRELOAD": run}
	}
	runID := func(env map[string]string) any {
		s := newSample("make")
		s.exec.Env = env
		attrs := map[string]any{}
		ex := d.Exec(s.process, s.exec)
		for _, kv := range slices.Concat(ex.Attributes, ex.Job) {
			attrs[string(kv.Key)] = kv.Value.AsInterface()
		}
		for _, v := range attrs {
			require.NotContains(t, strings.Join(strs(v), " "), "s3cr3t")
		}
		return attrs[string(semconv.CICDPipelineRunIDKey)]
	}
	for range 3 {
		require.Equal(t, "111", runID(job("111")))
		require.Equal(t, "222", runID(job("222")))
	}
	require.Nil(t, runID(map[string]string{"LD_PRELOAD": "x"}), "outside CI")
	require.Len(t, d.jobs.jobs.m, 3)
}

// TestAncestorLineFollowsItsExec: an ancestor's line is kept, and made
// anew once the ancestor runs another program.
func TestAncestorLineFollowsItsExec(t *testing.T) {
	s := newSample("zip")
	d, err := New(nil)
	require.NoError(t, err)
	chain := func() any {
		rec := d.Detection(s.hit, s.process, d.Exec(s.process, s.exec), s.ancestors[:1])
		return flat(rec)[string(semconv.VigilProcessAncestorsKey)]
	}
	require.Equal(t, []string{`4200 bash -c "zip x.zip \x1b[2J"`}, chain())
	require.Equal(t, []string{`4200 bash -c "zip x.zip \x1b[2J"`}, chain())
	parent := s.ancestors[0]
	parent.Exec = &event.Event{Kind: event.KindExec, PID: 4200}
	parent.Exe, parent.Args = "/usr/bin/python3", []string{"python3", "deploy.py", "--token=hunter2"}
	require.Equal(t, []string{"4200 python3 deploy.py --token=[REDACTED]"}, chain())
}
