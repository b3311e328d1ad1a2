package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/vigil-otel/vigil/internal/otlptest"
	"github.com/vigil-otel/vigil/redact"
	"github.com/vigil-otel/vigil/semconv"
)

// secretCommands are command lines with a password where the tools'
// manuals put it, among them those issue 16 found exported as typed. Each
// %s is a secret of its own.
var secretCommands = []string{
	"curl -su admin:%s file:///dev/null",
	"zip -P %s x.zip f",
	"7z a -p%s a.7z f",
	"keytool -genkeypair -storepass %s -keypass %s",
	"ldapsearch -xw %s -b dc=example,dc=com",
	"smbclient //fs/share -U bob%%%s",
	"ssh-keygen -qN %s -f k",
	"git clone https://%s@git.example.com/o/r.git",
	"curl 'https://b.s3.amazonaws.com/k?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Signature=%s'",
	"azcopy copy 'https://a.blob.core.windows.net/c/b?sv=2022-11-02&sig=%s' .",
	"htpasswd -nbB bob %s",
	"mysql -uroot -p%s shop",
	"openssl enc -aes-256-cbc -k %s -in f",
	"unzip -oP %s a.zip",
	"sshpass -p %s ssh host",
	"docker login -u ci -p %s r.example.com",
	"mount -t cifs //fs/share /mnt -o user=bob,pass=%s",
}

// TestNoSecretReachesAnyOutput runs those commands under vigil, as copies
// of /bin/true by their names, with a recipe that fires on each, in a CI
// job whose own variables hold credentials, and searches every byte vigil
// wrote for every secret: OTLP log records, spans and their events,
// metrics and the resource of each; the JSON lines; the reports in every
// format; its own logs at debug; and, in a second run, the console.
func TestNoSecretReachesAnyOutput(t *testing.T) {
	vigil := buildVigil(t)
	dir := t.TempDir()
	bin := filepath.Join(dir, "bin")
	require.NoError(t, os.Mkdir(bin, 0o755))

	var secrets, script, names []string
	for i, c := range secretCommands {
		var args []any
		for j := range strings.Count(c, "%s") {
			// Long enough to pass for a token as a URL's user name.
			s := fmt.Sprintf("Zq%02d%d-never-leaves-vigil", i, j)
			secrets, args = append(secrets, s), append(args, s)
		}
		script = append(script, fmt.Sprintf(c, args...))
		name, _, _ := strings.Cut(c, " ")
		if !slices.Contains(names, name) {
			names = append(names, name)
			probe(t, bin, name)
		}
	}
	// vigil's own environment: a Jenkins job whose variables hold
	// credentials, and resource attributes that do too.
	env := append(slices.DeleteFunc(os.Environ(), func(kv string) bool {
		return strings.HasPrefix(kv, "OTEL_") || strings.HasPrefix(kv, "TRACEPARENT=") || strings.HasPrefix(kv, "PATH=")
	}),
		"PATH="+bin+":/usr/bin:/bin",
		"JENKINS_URL=https://jenkins.example.com/",
		"BUILD_URL=https://ci:Zq90-never-leaves-vigil@jenkins.example.com/job/app/7/",
		"GIT_URL=https://x-access-token:Zq91-never-leaves-vigil@github.com/o/app.git",
		"OTEL_RESOURCE_ATTRIBUTES="+string(semconv.VCSRepositoryURLFullKey)+"=https://u:Zq92-never-leaves-vigil@git.example.com/o/r",
	)
	secrets = append(secrets, "Zq90-never-leaves-vigil", "Zq91-never-leaves-vigil", "Zq92-never-leaves-vigil")
	recipes := filepath.Join(dir, "recipes")
	require.NoError(t, os.Mkdir(recipes, 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(recipes, "tools.yaml"),
		[]byte(recipeFor("password_tool", "["+strings.Join(names, ", ")+"]")), 0o644))
	command := []string{"sh", "-c", strings.Join(script, "; ")}

	// Every output but the console, at once.
	rcv := otlptest.Start(t)
	jsonl := filepath.Join(dir, "out.jsonl")
	args := []string{"run", "--log-level", "debug", "--recipes", recipes, "--otlp-endpoint", rcv.Endpoint, "--jsonl", jsonl}
	reports := map[string]string{}
	for _, f := range []string{"json", "markdown", "junit", "text"} {
		reports[f] = filepath.Join(dir, "report."+f)
		args = append(args, "--report", f+":"+reports[f])
	}
	var stderr bytes.Buffer
	cmd := exec.Command(vigil, append(append(args, "--"), command...)...)
	cmd.Env, cmd.Stderr = env, &stderr
	require.NoError(t, cmd.Run(), "stderr: %s", stderr.String())

	outputs := map[string][]byte{"vigil's log": stderr.Bytes()}
	for _, r := range rcv.Records() {
		logs := plog.NewLogs()
		r.Resource.CopyTo(logs.ResourceLogs().AppendEmpty())
		b, err := (&plog.ProtoMarshaler{}).MarshalLogs(logs)
		require.NoError(t, err)
		outputs["log record "+r.EventName()] = b
	}
	for _, s := range rcv.Spans() {
		traces := ptrace.NewTraces()
		s.Resource.CopyTo(traces.ResourceSpans().AppendEmpty())
		b, err := (&ptrace.ProtoMarshaler{}).MarshalTraces(traces)
		require.NoError(t, err)
		outputs["span "+s.Name()] = b
	}
	for _, m := range rcv.Metrics() {
		metrics := pmetric.NewMetrics()
		m.Resource.CopyTo(metrics.ResourceMetrics().AppendEmpty())
		b, err := (&pmetric.ProtoMarshaler{}).MarshalMetrics(metrics)
		require.NoError(t, err)
		outputs["metric "+m.Name()] = b
	}
	var err error
	outputs["JSON lines"], err = os.ReadFile(jsonl)
	require.NoError(t, err)
	for f, path := range reports {
		outputs[f+" report"], err = os.ReadFile(path)
		require.NoError(t, err)
	}

	// Watching the machine's console instead.
	var console bytes.Buffer
	cmd = exec.Command(vigil, append([]string{"run", "--log-level", "debug", "--recipes", recipes, "--"}, command...)...)
	cmd.Env, cmd.Stderr = env, &console
	require.NoError(t, cmd.Run(), "stderr: %s", console.String())
	outputs["console"] = console.Bytes()

	for what, b := range outputs {
		for _, s := range secrets {
			require.NotContains(t, string(b), s, "%s", what)
		}
	}

	// And they hold what they should, redacted: a detection of each
	// command, the job's resource, the debug line.
	objs := readJSONL(t, jsonl)
	var fired []string
	for _, obj := range objs {
		if obj[string(semconv.SecurityRuleNameKey)] == "password_tool" {
			fired = append(fired, obj[string(semconv.ProcessExecutableNameKey)].(string))
		}
	}
	require.ElementsMatch(t, names, slices.Compact(slices.Sorted(slices.Values(fired))))
	for _, what := range []string{"JSON lines", "json report", "console", "vigil's log"} {
		require.Contains(t, string(outputs[what]), redact.Placeholder, what)
	}
	require.Contains(t, stderr.String(), `msg="watching the command"`)
	require.Contains(t, console.String(), "password_tool")
	res := rcv.Records()[0].Resource.Resource().Attributes().AsRaw()
	require.Equal(t, "https://ci:"+redact.Placeholder+"@jenkins.example.com/job/app/7/", res[string(semconv.CICDPipelineRunURLFullKey)])
	require.Equal(t, "https://u:"+redact.Placeholder+"@git.example.com/o/r", res[string(semconv.VCSRepositoryURLFullKey)])
}
