package atomic

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/vigil-otel/vigil/internal/vigiltest"
)

// TestRealWorkRaisesNoHighDetection keeps the false-positive side honest:
// it runs real work of a CI job under the real vigil (`vigil run --jsonl
// FILE -- bash -c SCRIPT`, with the built-in catalog) and fails on any
// detection of importance high or critical among the job's processes.
// Lower ones are listed in the log, and with the jobs' times in
// $VIGIL_REALWORK_REPORT (Markdown) when set. A job this machine lacks
// the tools or the network for is skipped, saying what it needs; .ci/run
// installs all of them. One job reruns alone with
// -run 'RealWork/npm_install'. About 3 minutes on 2 cores.
func TestRealWorkRaisesNoHighDetection(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("vigil loads eBPF programs, and the jobs install and build as root: run as root")
	}
	vigil := vigiltest.Build(t, t.TempDir())

	var results []realResult
	for _, job := range realJobs() {
		t.Run(job.name, func(t *testing.T) {
			dir := t.TempDir()
			env, skip := job.prepare(t, dir)
			if skip != "" {
				results = append(results, realResult{job: job.name, skipped: skip})
				t.Skip(skip)
			}
			start := time.Now()
			res, err := runReal(t.Context(), vigil, dir, job.script, env)
			res.job, res.took = job.name, time.Since(start)
			results = append(results, res)
			t.Logf("%s: %s, %s execs, %d detections", job.name, res.took.Round(time.Second), res.execs, len(res.detections))
			for _, d := range res.detections {
				t.Logf("  %s (%s): %s", d.Recipe, d.Importance, clip(d.Command, 300))
			}
			require.NoError(t, err, "the job failed; the end of its output:\n%s", res.tail)
			for _, d := range res.detections {
				if serious(d.Importance) {
					t.Errorf("%s detection %s of honest work: %s\n  ancestors: %s",
						d.Importance, d.Recipe, clip(d.Command, 1000), strings.Join(d.Ancestors, " <- "))
				}
			}
		})
	}

	if out := os.Getenv("VIGIL_REALWORK_REPORT"); out != "" {
		require.NoError(t, os.WriteFile(out, []byte(realReport(results)), 0o644))
	}
}

// realJob is one piece of a CI job's honest work.
type realJob struct {
	name string
	// prepare readies dir, the job's folder, outside vigil, and returns
	// the job's environment beyond the base one, or why the job cannot
	// run on this machine.
	prepare func(t *testing.T, dir string) (env []string, skip string)
	// script is what bash runs in dir under vigil; it stops at the first
	// command that fails.
	script string
}

// realJobs are the jobs, each a subtest of its name.
func realJobs() []realJob {
	return []realJob{
		{
			// Compiles this repository's own packages: the clone is new to
			// the build cache, its dependencies and the toolchain are not.
			name:    "go_build",
			prepare: prepareGoBuild,
			script: `git -c safe.directory="$REPO" clone -q "$REPO" repo
cd repo
go build ./...
go vet ./recipe/...`,
		},
		{
			// Real downloads into a cache of the job's own; esbuild's
			// postinstall script runs node, which fetches nothing more.
			name:    "npm_install",
			prepare: prepareNpm,
			script: `npm init -y >/dev/null
npm install --no-audit --no-fund esbuild@0.25 express@5 typescript@5 eslint@9
npx tsc --strict --outDir build greet.ts
npx eslint app.js
npx esbuild app.js --bundle --platform=node --log-level=warning --outfile=build/app.js
node build/app.js`,
		},
		{
			// PyPI is out of reach in CI: pip builds a local package with a
			// C extension, through setuptools' PEP 517 backend and the
			// compiler, into a wheel it then installs.
			name:    "pip_install",
			prepare: preparePip,
			script: `/usr/bin/python3 -m venv --system-site-packages venv
venv/bin/pip install --no-build-isolation --no-index ./pkg
venv/bin/python -c 'import greet; print(greet.hello())'`,
		},
		{
			// buildah drives runc, as a container build does: two stages
			// from scratch, the host's /usr lent to the RUN steps as their
			// toolchain.
			name:    "container_build",
			prepare: prepareContainerBuild,
			script: `buildah --storage-driver vfs --root "$PWD/storage" --runroot "$PWD/runroot" build \
	--isolation oci --runtime runc --network none --volume /usr:/usr:ro \
	--tag localhost/realwork context`,
		},
		{
			// GNU hello from Debian's sources: autoconf's configure, make
			// and the test suite.
			name:    "make_c_project",
			prepare: prepareMakeHello,
			script: `apt-get source -q hello
cd hello-*/
./configure -q
make -j"$(nproc)"
make -j"$(nproc)" check`,
		},
	}
}

// realResult is one job's run under vigil.
type realResult struct {
	job     string
	skipped string // why it did not run, if it did not
	took    time.Duration
	// execs is vigil's count of the job's execs.
	execs string
	// detections are those of the job's processes.
	detections []Detection
	// tail is the end of the job's and vigil's output.
	tail string
}

// realTimeout bounds one job.
const realTimeout = 5 * time.Minute

// runReal runs script with bash in dir under `vigil run --jsonl`, and
// reads the detections: with a command, vigil run watches only it and its
// descendants, so every detection is of the job's processes.
func runReal(ctx context.Context, vigil, dir, script string, env []string) (realResult, error) {
	var res realResult
	jsonl := filepath.Join(dir, "detections.jsonl")
	ctx, cancel := context.WithTimeout(ctx, realTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, vigil, "run", "--jsonl", jsonl, "--summary", "-", "--",
		"bash", "-c", "set -euo pipefail\n"+script)
	cmd.Dir = dir
	cmd.Env = append(baseEnv(), env...)
	// On timeout, end the job's processes with vigil.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 10 * time.Second
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	runErr := cmd.Run()
	res.tail = lastLines(out.String(), 40)
	if m := execsLine().FindStringSubmatch(out.String()); m != nil {
		res.execs = m[1]
	}
	if !strings.Contains(out.String(), "vigil: events") {
		return res, fmt.Errorf("vigil did not finish: %v", runErr)
	}
	var err error
	res.detections, err = readDetections(jsonl, nil)
	if err != nil {
		return res, err
	}
	return res, runErr
}

// baseEnv is the environment every job starts from: the system's PATH
// behind the folder of the go in use, nothing of the test's own.
func baseEnv() []string {
	path := "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
	if goBin, err := exec.LookPath("go"); err == nil {
		path = filepath.Dir(goBin) + ":" + path
	}
	home := os.Getenv("HOME")
	if home == "" {
		home = "/root"
	}
	return []string{"PATH=" + path, "HOME=" + home, "LANG=C.UTF-8"}
}

// execsLine finds vigil's count of execs in its summary.
func execsLine() *regexp.Regexp { return regexp.MustCompile(`(?m)^vigil: execs (\d+) in `) }

// findProgram looks name up in the jobs' PATH, and returns "" when it is
// missing.
func findProgram(name string) string {
	for _, e := range baseEnv() {
		if path, ok := strings.CutPrefix(e, "PATH="); ok {
			for _, dir := range filepath.SplitList(path) {
				if fi, err := os.Stat(filepath.Join(dir, name)); err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0 {
					return filepath.Join(dir, name)
				}
			}
		}
	}
	return ""
}

// missing returns the programs of names the jobs' PATH lacks.
func missing(names ...string) []string {
	var out []string
	for _, n := range names {
		if findProgram(n) == "" {
			out = append(out, n)
		}
	}
	return out
}

// writeFiles writes files (relative path to content) under dir.
func writeFiles(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		path := filepath.Join(dir, name)
		require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
		require.NoError(t, os.WriteFile(path, []byte(content), 0o644))
	}
}

// prepareGoBuild points the job at this module's repository and at the go
// environment of the test: the same module and build caches and proxy.
// Only the committed state is cloned.
func prepareGoBuild(t *testing.T, dir string) ([]string, string) {
	if m := missing("git", "go"); m != nil {
		return nil, fmt.Sprintf("%s not found: install git and Go", strings.Join(m, ", "))
	}
	gomod, err := exec.Command("go", "env", "GOMOD").Output()
	require.NoError(t, err)
	out, err := exec.Command("go", "env", "-json", "GOMODCACHE", "GOCACHE", "GOPROXY", "GOSUMDB", "GOTOOLCHAIN").Output()
	require.NoError(t, err)
	var goEnv map[string]string
	require.NoError(t, json.Unmarshal(out, &goEnv))
	env := []string{"REPO=" + filepath.Dir(strings.TrimSpace(string(gomod))), "GOFLAGS=-mod=mod"}
	for k, v := range goEnv {
		env = append(env, k+"="+v)
	}
	return env, ""
}

// prepareNpm writes the sources the job compiles, lints and bundles once
// its packages are installed.
func prepareNpm(t *testing.T, dir string) ([]string, string) {
	if m := missing("npm", "npx", "node"); m != nil {
		return nil, fmt.Sprintf("%s not found: install the Debian packages nodejs and npm (.ci/run does)", strings.Join(m, ", "))
	}
	writeFiles(t, dir, map[string]string{
		"greet.ts": "export function greet(name: string): string {\n\treturn `hello, ${name}`;\n}\n",
		"app.js": `const express = require("express");
const { greet } = require("./build/greet.js");

const app = express();
app.get("/", (req, res) => res.send(greet("express")));
console.log(greet(typeof app.listen));
`,
		"eslint.config.js": `module.exports = [{ languageOptions: { sourceType: "commonjs", globals: { require: "readonly", console: "readonly" } }, rules: { "no-undef": "error" } }];` + "\n",
	})
	return []string{"npm_config_cache=" + filepath.Join(dir, "npm-cache"), "npm_config_update_notifier=false"}, ""
}

// preparePip writes a small Python package with a C extension.
func preparePip(t *testing.T, dir string) ([]string, string) {
	check := exec.Command("/usr/bin/python3", "-c",
		"import ensurepip, setuptools, wheel, os, sysconfig; assert os.path.exists(os.path.join(sysconfig.get_paths()['include'], 'Python.h'))")
	if out, err := check.CombinedOutput(); err != nil || missing("gcc") != nil {
		return nil, fmt.Sprintf("Debian's Python cannot build a C extension here (%v %s): install python3-venv, python3-setuptools, python3-wheel, python3-dev and gcc (.ci/run does)",
			err, lastLines(string(out), 1))
	}
	writeFiles(t, dir, map[string]string{
		"pkg/pyproject.toml": "[build-system]\nrequires = [\"setuptools\", \"wheel\"]\nbuild-backend = \"setuptools.build_meta\"\n",
		"pkg/setup.py": `from setuptools import Extension, setup

setup(name="realwork-greet", version="1.0", ext_modules=[Extension("greet", ["greet.c"])])
`,
		"pkg/greet.c": `#define PY_SSIZE_T_CLEAN
#include <Python.h>

static PyObject *hello(PyObject *self, PyObject *args) {
	return PyUnicode_FromString("hello from C");
}

static PyMethodDef methods[] = {
	{"hello", hello, METH_NOARGS, "Say hello."},
	{NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "greet", NULL, -1, methods};

PyMODINIT_FUNC PyInit_greet(void) { return PyModule_Create(&module); }
`,
	})
	return nil, ""
}

// prepareContainerBuild writes the build's context: a root of /usr
// symlinks, a C program and its Makefile, and a Containerfile that builds
// it in one stage and runs it in another.
func prepareContainerBuild(t *testing.T, dir string) ([]string, string) {
	if m := missing("buildah", "runc"); m != nil {
		return nil, fmt.Sprintf("%s not found: install the Debian packages buildah and runc (.ci/run does)", strings.Join(m, ", "))
	}
	// The RUN steps take the host's /usr as theirs, which needs a root
	// whose /bin and /lib are in /usr.
	if target, _ := os.Readlink("/bin"); target != "usr/bin" {
		return nil, "this machine's /bin is not a link to /usr/bin: the container build lends /usr alone to its steps"
	}
	writeFiles(t, dir, map[string]string{
		"context/Containerfile": `FROM scratch AS build
COPY rootfs/ /
COPY src/ /src/
WORKDIR /src
RUN make CC=gcc check
RUN sha256sum hello > hello.sha256 && tar -czf /hello.tar.gz hello hello.sha256

FROM scratch
COPY rootfs/ /
COPY --from=build /hello.tar.gz /app/
WORKDIR /app
RUN tar -xzf hello.tar.gz && sha256sum -c hello.sha256 && ./hello
`,
		"context/src/hello.c":  "#include <stdio.h>\n\nint main(void) {\n\tputs(\"hello from the container\");\n\treturn 0;\n}\n",
		"context/src/Makefile": "hello: hello.c\n\t$(CC) -O2 -o $@ $<\n\ncheck: hello\n\t./hello | grep -q container\n",
	})
	rootfs := filepath.Join(dir, "context", "rootfs")
	for _, d := range []string{"usr", "etc", "tmp"} {
		require.NoError(t, os.MkdirAll(filepath.Join(rootfs, d), 0o755))
	}
	require.NoError(t, os.Chmod(filepath.Join(rootfs, "tmp"), 0o1777))
	for _, l := range []string{"bin", "sbin", "lib", "lib64"} {
		require.NoError(t, os.Symlink("usr/"+l, filepath.Join(rootfs, l)))
	}
	return nil, ""
}

// prepareMakeHello gives apt a configuration of the job's own, with a
// deb-src entry for each of the machine's deb ones and its own index
// folders (the machine's stay untouched), and fetches the source index.
// Without network the job is skipped.
func prepareMakeHello(t *testing.T, dir string) ([]string, string) {
	if m := missing("apt-get", "dpkg-source", "gcc", "make"); m != nil {
		return nil, fmt.Sprintf("%s not found: install the Debian packages build-essential and dpkg-dev (.ci/run does)", strings.Join(m, ", "))
	}
	aptDir := filepath.Join(dir, "apt")
	list, parts := debSrcSources(t)
	if list == "" && parts == "" {
		return nil, "no deb entry in /etc/apt/sources.list*: no mirror to fetch sources from"
	}
	writeFiles(t, aptDir, map[string]string{
		"sources.list":               list,
		"sources.list.d/src.sources": parts,
		"apt.conf": fmt.Sprintf("Dir::Etc::SourceList %q;\nDir::Etc::SourceParts %q;\nDir::State::Lists %q;\nDir::Cache %q;\n",
			filepath.Join(aptDir, "sources.list"), filepath.Join(aptDir, "sources.list.d"),
			filepath.Join(aptDir, "lists"), filepath.Join(aptDir, "cache")),
	})
	for _, d := range []string{"lists/partial", "cache/archives/partial"} {
		require.NoError(t, os.MkdirAll(filepath.Join(aptDir, d), 0o755))
	}
	env := []string{"APT_CONFIG=" + filepath.Join(aptDir, "apt.conf")}
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	update := exec.CommandContext(ctx, "apt-get", "-q", "update")
	update.Env = append(baseEnv(), env...)
	if out, err := update.CombinedOutput(); err != nil || bytes.Contains(out, []byte("Err:")) {
		return nil, fmt.Sprintf("cannot fetch Debian's source index (offline?): %v: %s", err, lastLines(string(out), 3))
	}
	return env, ""
}

// debSrcSources turns the machine's apt sources into deb-src ones: the
// one-line entries of /etc/apt/sources.list and sources.list.d/*.list, and
// the deb822 stanzas of sources.list.d/*.sources.
func debSrcSources(t *testing.T) (list, parts string) {
	t.Helper()
	var lines []string
	files, _ := filepath.Glob("/etc/apt/sources.list.d/*.list")
	for _, f := range append([]string{"/etc/apt/sources.list"}, files...) {
		data, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		for _, l := range strings.Split(string(data), "\n") {
			if rest, ok := strings.CutPrefix(strings.TrimSpace(l), "deb "); ok && !slices.Contains(lines, "deb-src "+rest) {
				lines = append(lines, "deb-src "+rest)
			}
		}
	}
	if lines != nil {
		list = strings.Join(lines, "\n") + "\n"
	}
	files, _ = filepath.Glob("/etc/apt/sources.list.d/*.sources")
	var b strings.Builder
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		for _, stanza := range strings.Split(string(data), "\n\n") {
			if src, ok := asDebSrc(stanza); ok {
				b.WriteString(src + "\n\n")
			}
		}
	}
	return list, b.String()
}

// asDebSrc turns a deb822 stanza whose Types name deb into a deb-src one.
func asDebSrc(stanza string) (string, bool) {
	lines := strings.Split(stanza, "\n")
	for i, l := range lines {
		key, value, _ := strings.Cut(l, ":")
		if strings.EqualFold(key, "Types") && slices.Contains(strings.Fields(value), "deb") {
			lines[i] = "Types: deb-src"
			return strings.Join(lines, "\n"), true
		}
	}
	return "", false
}

// serious says whether an importance is one honest work must never raise.
func serious(importance string) bool { return importance == "high" || importance == "critical" }

// realReport is the Markdown report of the jobs: each with its time, and
// every detection.
func realReport(results []realResult) string {
	var b strings.Builder
	b.WriteString("# vigil on real work\n\nEach job ran under `vigil run` with the built-in catalog " +
		"(test/atomic/realwork_test.go); a detection of importance high or critical fails it.\n\n")
	b.WriteString("| job | time | execs | detections |\n|---|---|---|---|\n")
	for _, r := range results {
		if r.skipped != "" {
			fmt.Fprintf(&b, "| %s | skipped: %s | | |\n", r.job, cell(r.skipped))
			continue
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %d |\n", r.job, r.took.Round(time.Second), r.execs, len(r.detections))
	}
	b.WriteString("\n## Detections\n\n| job | recipe | importance | command |\n|---|---|---|---|\n")
	for _, r := range results {
		for _, d := range r.detections {
			fmt.Fprintf(&b, "| %s | %s | %s | `%s` |\n", r.job, d.Recipe, d.Importance, cell(clip(d.Command, 200)))
		}
	}
	return b.String()
}

// clip puts s on one line and shortens it to at most n bytes, marking
// the cut: command lines can hold whole scripts.
func clip(s string, n int) string {
	s = strings.ReplaceAll(s, "\n", " ")
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
