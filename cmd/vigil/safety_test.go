package main

import (
	"bytes"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/vigil-otel/vigil/internal/safefile"
	"github.com/vigil-otel/vigil/redact"
	"github.com/vigil-otel/vigil/semconv"
)

// Tests of what an unprivileged local user can do to root's vigil through
// the files it writes and the recipes it reads (package safefile). The
// user is nobody; vigil runs as root, not through sudo.

// nobodyUID is the user the tests act as.
const nobodyUID = 65534

// asNobody runs a shell command as nobody, as a local user would.
func asNobody(t *testing.T, script string) {
	t.Helper()
	cmd := exec.Command("sh", "-c", script)
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: nobodyUID, Gid: nobodyUID}}
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "as nobody: %s: %s", script, out)
}

// sharedDir returns a directory every user may write, with the sticky bit,
// as /tmp is; its parent is root's.
func sharedDir(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "vigil-shared-")
	require.NoError(t, err)
	t.Cleanup(func() { os.RemoveAll(dir) })
	require.NoError(t, os.Chmod(dir, 0o777|fs.ModeSticky))
	return dir
}

// notSudo has vigil's runs below not trust a sudo user.
func notSudo(t *testing.T) {
	t.Setenv("SUDO_UID", "")
	t.Setenv("SUDO_GID", "")
}

func requireFile(t *testing.T, path, content string, mode fs.FileMode) {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	require.Equal(t, content, string(b))
	st, err := os.Stat(path)
	require.NoError(t, err)
	require.Equal(t, mode, st.Mode().Perm())
}

// TestOutputFilesAnotherUserPlanted: a link to root's file, or a file of
// the user's own, put where vigil is to write, is refused with the flag,
// the path and why; nothing of root's is overwritten, nor of the user's.
func TestOutputFilesAnotherUserPlanted(t *testing.T) {
	vigil := buildVigil(t)
	notSudo(t)
	shared := sharedDir(t)
	secret := filepath.Join(t.TempDir(), "root-only")
	const rootOnly = "root's eyes only\n"
	require.NoError(t, os.WriteFile(secret, []byte(rootOnly), 0o600))

	asNobody(t, "ln -s "+secret+" "+shared+"/link.jsonl && printf 'theirs\\n' > "+shared+"/theirs.jsonl")
	link, theirs := filepath.Join(shared, "link.jsonl"), filepath.Join(shared, "theirs.jsonl")
	for _, tc := range []struct{ args, want []string }{
		{[]string{"--jsonl", link}, []string{"vigil: --jsonl " + link + ": refusing: it is a symbolic link, which vigil never writes through"}},
		{[]string{"--record", link}, []string{"vigil: --record " + link + ": refusing: it is a symbolic link, which vigil never writes through"}},
		{[]string{"--jsonl", theirs}, []string{"vigil: --jsonl " + theirs + ": refusing: it is owned by uid 65534, not by vigil (uid 0)"}},
		{[]string{"--record", theirs}, []string{"vigil: --record " + theirs + ": refusing: it is owned by uid 65534, not by vigil (uid 0)"}},
		{[]string{"--report", "json:" + link, "--summary", theirs}, []string{
			"vigil: json report: --report " + link + ": refusing: it is a symbolic link, which vigil never writes through",
			"markdown report: --summary " + theirs + ": refusing: it is owned by uid 65534, not by vigil (uid 0)"}},
	} {
		out, err := exec.Command(vigil, append(append([]string{"run"}, tc.args...), "--", "true")...).CombinedOutput()
		require.Equal(t, exitVigilFailed, exitStatus(t, err), "%v: %s", tc.args, out)
		for _, want := range tc.want {
			require.Contains(t, string(out), want+"\n", tc.args)
		}
		requireFile(t, secret, rootOnly, 0o600)
		requireFile(t, theirs, "theirs\n", 0o644)
	}

	// Files of its own vigil creates only its user can read, or as
	// --output-mode says; a raw recording, always only its user.
	jsonl, rec, raw := filepath.Join(shared, "out.jsonl"), filepath.Join(shared, "rec.jsonl"), filepath.Join(shared, "raw.jsonl")
	out, err := exec.Command(vigil, "run", "--jsonl", jsonl, "--record", rec, "--", "true").CombinedOutput()
	require.NoError(t, err, "%s", out)
	requireFile(t, jsonl, "", 0o600)
	st, err := os.Stat(rec)
	require.NoError(t, err)
	require.Equal(t, fs.FileMode(0o600), st.Mode().Perm())
	out, err = exec.Command(vigil, "run", "--output-mode", "0644", "--jsonl", jsonl, "--record", raw, "--record-raw", "--", "true").CombinedOutput()
	require.NoError(t, err, "%s", out)
	requireFile(t, jsonl, "", 0o600) // an existing file keeps the narrower mode
	st, err = os.Stat(raw)
	require.NoError(t, err)
	require.Equal(t, fs.FileMode(0o600), st.Mode().Perm())

	out, err = exec.Command(vigil, "run", "--output-mode", "0666", "--", "true").CombinedOutput()
	require.Equal(t, 125, exitStatus(t, err))
	require.Equal(t, "vigil: --output-mode 0666: want 0600, 0640 or 0644: the group and other users may only read, and no one execute\n", string(out))
}

// TestRecordingIsRedacted: the secret of a command line stays out of the
// recording, which still replays into the detection it held; --record-raw
// keeps it.
func TestRecordingIsRedacted(t *testing.T) {
	vigil := buildVigil(t)
	dir := t.TempDir()
	rec, raw := filepath.Join(dir, "rec.jsonl"), filepath.Join(dir, "raw.jsonl")
	archive := filepath.Join(dir, "x.zip")
	script := "zip -q " + archive + " /etc/hostname; /bin/true --password=hunter2"
	out, err := exec.Command(vigil, "run", "--record", rec, "--", "sh", "-c", script).CombinedOutput()
	require.NoError(t, err, "%s", out)
	out, err = exec.Command(vigil, "run", "--record", raw, "--record-raw", "--", "sh", "-c", script).CombinedOutput()
	require.NoError(t, err, "%s", out)

	recorded, err := os.ReadFile(rec)
	require.NoError(t, err)
	require.NotContains(t, string(recorded), "hunter2")
	require.Contains(t, string(recorded), `"args":["/bin/true","--password=`+redact.Placeholder+`"]`)
	recorded, err = os.ReadFile(raw)
	require.NoError(t, err)
	require.Contains(t, string(recorded), `"args":["/bin/true","--password=hunter2"]`)

	var stdout, stderr bytes.Buffer
	replay := exec.Command(vigil, "replay", "--jsonl", "-", rec)
	replay.Stdout, replay.Stderr = &stdout, &stderr
	require.NoError(t, replay.Run(), "stderr: %s", stderr.String())
	var zips int
	for line := range strings.Lines(stdout.String()) {
		require.NotContains(t, line, "hunter2")
		if strings.Contains(line, `"`+string(semconv.SecurityRuleNameKey)+`":"exec_example"`) {
			zips++
			require.Contains(t, line, archive)
		}
	}
	require.Equal(t, 1, zips, "the replay of the redacted recording: %s", stdout.String())
}

// disabledExample redefines the built-in exec_example, turned off.
const disabledExample = `recipes:
  - name: exec_example
    description: nothing to see
    tactic: {id: TA0042, name: Resource Development}
    technique: {id: T1105, name: Ingress Tool Transfer}
    importance: low
    enabled: false
    match: {executable: {name: zip}}
`

// TestRecipesAnotherUserCanChange: a recipe directory every user may
// write, where one dropped a file that turns exec_example off, is refused
// at start; when it becomes so while vigil runs, the reload is refused and
// the built-in keeps firing. A change root makes to a built-in is logged.
func TestRecipesAnotherUserCanChange(t *testing.T) {
	vigil := buildVigil(t)
	notSudo(t)
	recipes := filepath.Join(sharedDir(t), "recipes")
	require.NoError(t, os.Mkdir(recipes, 0o755))
	require.NoError(t, os.Chmod(recipes, 0o777))
	asNobody(t, "cat > "+recipes+"/evil.yaml <<'EOF'\n"+disabledExample+"EOF")

	out, err := exec.Command(vigil, "run", "--recipes", recipes, "--", "true").CombinedOutput()
	require.Equal(t, exitVigilFailed, exitStatus(t, err), "%s", out)
	require.Equal(t, "vigil: --recipes "+recipes+": refusing: it is writable by every user (mode 0777); --allow-untrusted-recipes loads it anyway\n", string(out))
	// The flag says otherwise: the file is loaded, and zip goes unseen.
	jsonl := filepath.Join(t.TempDir(), "out.jsonl")
	out, err = exec.Command(vigil, "run", "--allow-untrusted-recipes", "--recipes", recipes, "--jsonl", jsonl,
		"--", "zip", "-q", filepath.Join(t.TempDir(), "x.zip"), "/etc/hostname").CombinedOutput()
	require.NoError(t, err, "%s", out)
	require.Empty(t, readJSONL(t, jsonl))

	// Watching the machine with the directory root's alone; then it is
	// opened to every user, who drops the same file.
	require.NoError(t, os.Remove(filepath.Join(recipes, "evil.yaml")))
	require.NoError(t, os.Chmod(recipes, 0o755))
	r := startReaderRun(t, vigil, "--recipes", recipes, "--jsonl", jsonl)
	said := func(substr string) {
		t.Helper()
		require.Eventually(t, func() bool { return strings.Contains(r.output(), substr) }, 30*time.Second, 50*time.Millisecond,
			"vigil never said %q: %s", substr, r.output())
	}
	said("watching the machine")
	require.NoError(t, os.Chmod(recipes, 0o777))
	asNobody(t, "cat > "+recipes+"/evil.yaml <<'EOF'\n"+disabledExample+"EOF")
	said(`level=ERROR msg="recipes not reloaded; the old ones stay" error="--recipes ` + recipes + `: refusing: it is writable by every user (mode 0777); --allow-untrusted-recipes loads it anyway"`)
	require.NoError(t, r.cmd.Process.Signal(syscall.SIGHUP))
	require.Eventually(t, func() bool { return strings.Count(r.output(), "recipes not reloaded") >= 2 }, 30*time.Second, 50*time.Millisecond)
	kept := exec.Command("zip", "-q", filepath.Join(t.TempDir(), "kept.zip"), "/etc/hostname")
	require.NoError(t, kept.Run())

	// Root's own file that turns the built-in off is loaded, and said.
	require.NoError(t, os.Remove(filepath.Join(recipes, "evil.yaml")))
	require.NoError(t, os.Chmod(recipes, 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(recipes, "off.yaml"), []byte(disabledExample), 0o644))
	said(`level=WARN msg="a built-in recipe changed" recipe=exec_example change="enabled: true -> false; replaced by ` + recipes + `/off.yaml:2"`)
	// The reload applies from the first exec after it.
	time.Sleep(500 * time.Millisecond)
	off := exec.Command("zip", "-q", filepath.Join(t.TempDir(), "off.zip"), "/etc/hostname")
	require.NoError(t, off.Run())
	time.Sleep(500 * time.Millisecond)
	require.NoError(t, r.cmd.Process.Signal(syscall.SIGINT))
	<-r.exited
	require.NoError(t, r.err, "%s", r.output())
	require.Equal(t, 1, strings.Count(r.output(), "a built-in recipe changed"), "said once: %s", r.output())

	fired := map[float64]string{}
	for _, obj := range readJSONL(t, jsonl) {
		fired[obj[string(semconv.ProcessPIDKey)].(float64)] = obj[string(semconv.SecurityRuleNameKey)].(string)
	}
	require.Equal(t, "exec_example", fired[float64(kept.Process.Pid)], "the built-in kept firing: %v", fired)
	require.NotContains(t, fired, float64(off.Process.Pid))
}

// TestCheckRecipes: a recipe directory, or a file in it, that another user
// could change is refused with the way out; one that is not there is
// left to the loader, which says so.
func TestCheckRecipes(t *testing.T) {
	policy := safefile.Policy{UID: uint32(os.Geteuid())}
	dir := filepath.Join(t.TempDir(), "recipes")
	require.NoError(t, os.Mkdir(dir, 0o755))
	file := filepath.Join(dir, "mine.yaml")
	require.NoError(t, os.WriteFile(file, []byte(disabledExample), 0o644))
	require.NoError(t, checkRecipes(policy, []string{dir, file, filepath.Join(dir, "later")}))

	require.NoError(t, os.Chmod(file, 0o666))
	require.EqualError(t, checkRecipes(policy, []string{dir}),
		"--recipes "+file+": refusing: it is writable by every user (mode 0666); --allow-untrusted-recipes loads it anyway")
	require.NoError(t, os.Chmod(file, 0o644))
	require.NoError(t, os.Chmod(dir, 0o775))
	require.EqualError(t, checkRecipes(policy, []string{file}),
		"--recipes "+file+": refusing: its directory "+dir+" is writable by its group, without the sticky bit (mode 0775); --allow-untrusted-recipes loads it anyway")
}
