// Tests of the vigil Action against the real vigil (VIGIL_BINARY), in a
// fake runner: the files a runner gives a step ($RUNNER_TEMP,
// $GITHUB_STATE, $GITHUB_OUTPUT, $GITHUB_STEP_SUMMARY), and the pre, a
// watched step, and the post run as the runner runs them. Run by
// action/action_test.go (go test), as root.
'use strict';

const assert = require('node:assert/strict');
const childProcess = require('node:child_process');
const crypto = require('node:crypto');
const fs = require('node:fs');
const http = require('node:http');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');
const { test } = require('node:test');
const lib = require('../lib');

const actionDir = path.join(__dirname, '..');
const vigil = process.env.VIGIL_BINARY;

// runner makes the files of one job.
function runner(inputs) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-action-'));
  const job = {
    dir,
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME || '/root',
      GITHUB_ACTIONS: 'true',
      GITHUB_JOB: 'test',
      GITHUB_WORKSPACE: dir,
      RUNNER_TEMP: path.join(dir, 'temp'),
      GITHUB_STATE: path.join(dir, 'state'),
      GITHUB_OUTPUT: path.join(dir, 'output'),
      GITHUB_STEP_SUMMARY: path.join(dir, 'summary.md'),
      OTEL_EXPORTER_OTLP_TIMEOUT: '1000',
    },
  };
  fs.mkdirSync(job.env.RUNNER_TEMP);
  for (const [k, v] of Object.entries(inputs)) {
    job.env[`INPUT_${k.toUpperCase()}`] = v;
  }
  return job;
}

// parseFile reads name<<delim ... delim entries, as the runner does.
function parseFile(file) {
  const out = {};
  if (!fs.existsSync(file)) return out;
  const lines = fs.readFileSync(file, 'utf8').split('\n');
  for (let i = 0; i < lines.length; i++) {
    const m = lines[i].match(/^([^<]+)<<(.+)$/);
    if (!m) continue;
    const value = [];
    for (i++; lines[i] !== m[2]; i++) value.push(lines[i]);
    out[m[1]] = value.join('\n');
  }
  return out;
}

// step runs one of the Action's scripts as the runner would, the post
// with the state the pre saved; asynchronously, so that a test's own
// server keeps serving meanwhile.
function step(job, script, extraEnv = {}) {
  const env = { ...job.env, ...extraEnv };
  for (const [k, v] of Object.entries(parseFile(job.env.GITHUB_STATE))) {
    env[`STATE_${k}`] = v;
  }
  return new Promise((resolve) => {
    const child = childProcess.spawn(process.execPath, [path.join(actionDir, script)], { env });
    let out = '';
    child.stdout.on('data', (d) => { out += d; });
    child.stderr.on('data', (d) => { out += d; });
    child.on('close', (status) => resolve({ status, out }));
  });
}

// startVigil runs the pre step, and has vigil stopped at the end of the test
// whatever happens to it: it watches the whole machine as root.
async function startVigil(t, job, extraEnv) {
  const r = await step(job, 'pre.js', extraEnv);
  t.after(() => {
    const pidFile = parseFile(job.env.GITHUB_STATE).pid_file;
    if (pidFile && fs.existsSync(pidFile)) {
      childProcess.spawnSync(vigil, ['stop', '--pid-file', pidFile]);
    }
  });
  return r;
}

// watchedStep runs a step of the job that vigil should see: zip is the
// built-in exec_example recipe's program.
function watchedStep(job) {
  const archive = path.join(job.dir, 'x.zip');
  childProcess.execFileSync('sh', ['-c', `zip -q ${archive} /etc/hostname`], {
    env: { ...job.env, GITHUB_ACTION: '__run_2' },
  });
}

// atOrAbove counts the report's detections at or above an importance.
function atOrAbove(report, least) {
  const order = ['low', 'medium', 'high', 'critical'];
  return report.recipes
    .filter((c) => order.indexOf(c.importance) >= order.indexOf(least))
    .reduce((n, c) => n + c.count, 0);
}

test('unit: why a runner is skipped', () => {
  assert.match(lib.skipReason({}, 'darwin', 'arm64'), /Linux runners; this one runs darwin/);
  assert.match(lib.skipReason({}, 'linux', 'ia32'), /amd64 and arm64; this runner is ia32/);
  assert.match(lib.skipReason({ GITHUB_WORKSPACE: '/__w/repo/repo' }, 'linux', 'x64'), /container job/);
  assert.equal(lib.skipReason({ GITHUB_WORKSPACE: '/home/runner/work/repo/repo' }, 'linux', 'x64'), '');
});

test('unit: release addresses, checksums and headers', () => {
  assert.deepEqual(lib.releaseURLs('https://github.com/vigil-otel/vigil/releases/', 'v0.4.0', 'arm64'), {
    archive: 'https://github.com/vigil-otel/vigil/releases/download/v0.4.0/vigil_linux_arm64.tar.gz',
    checksums: 'https://github.com/vigil-otel/vigil/releases/download/v0.4.0/checksums.txt',
    name: 'vigil_linux_arm64.tar.gz',
  });
  assert.equal(lib.releaseURLs('https://x/releases', 'latest', 'amd64').archive, 'https://x/releases/latest/download/vigil_linux_amd64.tar.gz');
  const sum = 'a'.repeat(64);
  assert.equal(lib.checksumOf(`${'b'.repeat(64)}  vigil_linux_arm64.tar.gz\n${sum}  vigil_linux_amd64.tar.gz\n`, 'vigil_linux_amd64.tar.gz'), sum);
  assert.equal(lib.checksumOf('garbage\n', 'vigil_linux_amd64.tar.gz'), '');
  assert.equal(lib.headersYAML('authorization=Bearer a=b, x-team=sec'), '    "authorization": "Bearer a=b"\n    "x-team": "sec"');
  assert.throws(() => lib.headersYAML('novalue'), /key=value/);
});

test('a job with a detection: summary, outputs, and fail-on', async (t) => {
  for (const failOn of ['low', 'critical']) {
    const job = runner({ binary: vigil, 'fail-on': failOn });
    fs.writeFileSync(job.env.GITHUB_STEP_SUMMARY, '## Build\n\nok\n');
    const pre = await startVigil(t, job);
    assert.equal(pre.status, 0, pre.out);
    assert.match(pre.out, /vigil: watching the machine as pid \d+/);
    const state = parseFile(job.env.GITHUB_STATE);
    assert.ok(fs.existsSync(state.pid_file), 'watching when pre returns');

    const main = await step(job, 'main.js');
    assert.equal(main.status, 0, main.out);
    assert.equal(parseFile(job.env.GITHUB_OUTPUT).report, state.report);

    watchedStep(job);
    const post = await step(job, 'post.js');
    const report = JSON.parse(fs.readFileSync(state.report, 'utf8'));
    const zip = report.detections.find((d) => d.recipe === 'exec_example' && d.args.includes(path.join(job.dir, 'x.zip')));
    assert.ok(zip, 'the watched step is in the report');
    assert.equal(zip.step, '__run_2');
    assert.equal(zip.job, 'test');

    // The whole machine is watched, so other tests' processes may be in
    // the report too: fail-on must follow exactly what it holds.
    const decisive = atOrAbove(report, failOn);
    assert.equal(post.status, decisive > 0 ? 1 : 0, post.out);
    if (decisive > 0) {
      assert.match(post.out, new RegExp(`::error::vigil --fail-on ${failOn}: \\d+ detection\\(s\\) at ${failOn} or above`));
      if (failOn === 'low') {
        assert.match(post.out, /::error title=vigil low%3A exec_example::/);
      }
    }

    const summary = fs.readFileSync(job.env.GITHUB_STEP_SUMMARY, 'utf8');
    assert.ok(summary.startsWith('## Build\n\nok\n### vigil: '), summary.slice(0, 200));
    assert.match(summary, /test \/ &#95;&#95;run_2/);
    const out = parseFile(job.env.GITHUB_OUTPUT);
    assert.equal(Number(out.detections), report.total);
    assert.ok(Number(out.low) >= 1);
    assert.match(out.lost, /^\d+$/, 'counted, whatever a busy machine lost');
    assert.ok(!fs.existsSync(state.pid_file), 'vigil ended');
  }
});

test('recipes of the repository, checked out after the pre step', async (t) => {
  const job = runner({ binary: vigil, recipes: 'security/recipes' });
  const pre = await startVigil(t, job);
  assert.equal(pre.status, 0, pre.out);
  // The checkout: the recipes arrive after vigil started.
  const dir = path.join(job.dir, 'security', 'recipes');
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'ours.yaml'), `recipes:
  - name: our_deploy_tool
    description: Our deploy tool ran outside the deploy job
    tactic: {id: TA0002, name: Execution}
    technique: {id: T1059, name: Command and Scripting Interpreter}
    importance: high
    match: {executable: {name: shipit}}
`);
  const main = await step(job, 'main.js');
  assert.equal(main.status, 0, main.out);
  assert.match(main.out, /vigil reloads the recipes of security\/recipes/);
  const shipit = path.join(job.dir, 'shipit');
  fs.copyFileSync('/bin/true', shipit);
  fs.chmodSync(shipit, 0o755);
  // The reload is asynchronous: run the tool until vigil has seen it.
  const report = parseFile(job.env.GITHUB_STATE).report;
  const log = path.join(job.env.RUNNER_TEMP, 'vigil', 'vigil.log');
  for (let i = 0; i < 50 && !fs.readFileSync(log, 'utf8').includes('recipes reloaded'); i++) {
    childProcess.execFileSync('sleep', ['0.1']);
  }
  childProcess.execFileSync(shipit);
  const post = await step(job, 'post.js');
  assert.equal(post.status, 0, post.out);
  const rep = JSON.parse(fs.readFileSync(report, 'utf8'));
  assert.ok(rep.detections.some((d) => d.recipe === 'our_deploy_tool' && d.executable === shipit), JSON.stringify(rep.recipes));
});

test('a job without detections passes and says so', async (t) => {
  const job = runner({ binary: vigil, 'fail-on': 'critical' });
  assert.equal((await startVigil(t, job)).status, 0);
  const post = await step(job, 'post.js');
  const report = JSON.parse(fs.readFileSync(parseFile(job.env.GITHUB_STATE).report, 'utf8'));
  // Other tests may run on the machine meanwhile: the verdict follows the
  // report, and a report without detections is one line.
  assert.equal(post.status, atOrAbove(report, 'critical') > 0 ? 1 : 0, post.out);
  const summary = fs.readFileSync(job.env.GITHUB_STEP_SUMMARY, 'utf8');
  if (report.total === 0) {
    assert.match(summary, /^### vigil: no detections on the machine\n\nexecs seen \d+ · lost 0 · took \S+ · nothing at or above critical\n$/);
    assert.equal(parseFile(job.env.GITHUB_OUTPUT).detections, '0');
  }
});

test('a Collector that is down: the job passes, the losses are reported', async (t) => {
  // A port that was free a moment ago: connections to it are refused.
  const port = await new Promise((resolve) => {
    const srv = net.createServer().listen(0, '127.0.0.1', () => {
      const p = srv.address().port;
      srv.close(() => resolve(p));
    });
  });
  const job = runner({ binary: vigil, 'otlp-endpoint': `http://127.0.0.1:${port}`, 'otlp-headers': 'authorization=Bearer s3cret' });
  const pre = await startVigil(t, job);
  assert.equal(pre.status, 0, pre.out);
  const config = path.join(job.env.RUNNER_TEMP, 'vigil', 'config.yaml');
  assert.ok(!fs.existsSync(config), 'the headers file is gone once vigil has read it');
  watchedStep(job);
  const post = await step(job, 'post.js');
  assert.equal(post.status, 0, post.out);
  const out = parseFile(job.env.GITHUB_OUTPUT);
  assert.ok(Number(out.lost) >= 1, `lost ${out.lost}`);
  assert.match(post.out, /::warning::vigil: \d+ detection\(s\), \d+ execs seen, \d+ lost: the report counts what was not delivered/);
  assert.match(fs.readFileSync(job.env.GITHUB_STEP_SUMMARY, 'utf8'), /\*\*lost \d+\*\* \(.*export \d+/);
  assert.doesNotMatch(post.out + pre.out, /s3cret/);
});

test('a release is downloaded and its checksum verified', async (t) => {
  // The assets release/build.sh made (action_test.go runs it).
  const release = process.env.VIGIL_RELEASE_DIR;
  assert.ok(release, 'VIGIL_RELEASE_DIR names the assets of release/build.sh');
  const name = `vigil_linux_${lib.goArch()}.tar.gz`;
  const archive = fs.readFileSync(path.join(release, name));
  let checksums = fs.readFileSync(path.join(release, 'checksums.txt'), 'utf8');
  assert.ok(checksums.includes(crypto.createHash('sha256').update(archive).digest('hex')));
  const server = http.createServer((req, res) => {
    const files = {
      [`/releases/download/v9.9.9/${name}`]: archive,
      '/releases/download/v9.9.9/checksums.txt': Buffer.from(checksums),
    };
    if (req.url === `/releases/latest/download/${name}`) {
      res.writeHead(302, { Location: `/releases/download/v9.9.9/${name}` });
      res.end();
    } else if (req.url === '/releases/latest/download/checksums.txt') {
      res.writeHead(302, { Location: '/releases/download/v9.9.9/checksums.txt' });
      res.end();
    } else if (files[req.url]) {
      res.end(files[req.url]);
    } else {
      res.writeHead(404);
      res.end();
    }
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${server.address().port}/releases`;
  try {
    for (const version of ['v9.9.9', 'latest']) {
      const job = runner({ version, 'release-url': base });
      const pre = await startVigil(t, job);
      assert.equal(pre.status, 0, pre.out);
      assert.equal(parseFile(job.env.GITHUB_STATE).binary, path.join(job.env.RUNNER_TEMP, 'vigil', 'vigil'));
      const post = await step(job, 'post.js');
      assert.equal(post.status, 0, post.out);
    }

    checksums = `${'0'.repeat(64)}  ${name}\n`;
    const job = runner({ version: 'v9.9.9', 'release-url': base });
    const pre = await startVigil(t, job, { GOPROXY: 'off', GOFLAGS: '-mod=mod' });
    assert.equal(pre.status, 1, pre.out);
    assert.match(pre.out, /checksum mismatch for .*vigil_linux_\w+\.tar\.gz: got [0-9a-f]{64}, the release says 0{64}; not used\); building it with go install/);
    assert.match(pre.out, /::error::go install: /);
    assert.ok(!fs.existsSync(path.join(job.env.RUNNER_TEMP, 'vigil', 'vigil')), 'the bad archive is not unpacked');
  } finally {
    server.close();
  }
});
