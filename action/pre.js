// The vigil Action's pre step: before any step of the job runs, get vigil
// and start it watching the whole runner, in the background, and return
// only once it watches.
'use strict';

const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const lib = require('./lib');

async function main() {
  const reason = lib.skipReason();
  if (reason) {
    lib.notice(`vigil skipped: ${reason}`);
    lib.saveState('skipped', 'true');
    return;
  }
  const dir = path.join(process.env.RUNNER_TEMP || os.tmpdir(), 'vigil');
  fs.mkdirSync(dir, { recursive: true });
  const bin = await binary(dir);

  const files = {
    pid: path.join(dir, 'vigil.pid'),
    log: path.join(dir, 'vigil.log'),
    report: path.join(dir, 'report.json'),
    config: path.join(dir, 'config.yaml'),
  };
  // No spool (--state-dir ''): a runner is often gone when the job ends,
  // so what the Collector did not take is counted lost in the report, as
  // for `vigil run -- COMMAND`, rather than kept for a next start.
  const args = ['run', '--detach', '--pid-file', files.pid, '--log-file', files.log, '--state-dir', '',
    '--report', `json:${files.report}`, '--spans', lib.input('spans') || 'detections'];
  // The report then holds the verdict too; post applies it.
  const failOn = lib.input('fail-on');
  if (failOn) {
    args.push('--fail-on', failOn);
  }
  const recipes = lib.input('recipes');
  if (recipes) {
    // vigil refuses a --recipes path that is not there, and the checkout
    // that brings the folder comes after this step: an empty folder of the
    // runner's stands in until then, and the main step has vigil reload it.
    const dir = path.resolve(process.env.GITHUB_WORKSPACE || '.', recipes);
    fs.mkdirSync(dir, { recursive: true });
    args.push('--recipes', dir);
  }
  const endpoint = lib.input('otlp-endpoint');
  const headers = lib.input('otlp-headers');
  if (endpoint || headers) {
    // Secrets go in a file only its owner reads, never on a command line
    // that every process can see.
    let yaml = 'otlp:\n  enabled: true\n';
    if (endpoint) yaml += `  endpoint: ${JSON.stringify(endpoint)}\n`;
    if (headers) yaml += `  headers:\n${lib.headersYAML(headers)}\n`;
    lib.writeRootFile(files.config, yaml);
    args.push('--config', files.config);
  }

  const r = lib.run([...lib.root(), bin, ...args]);
  if (endpoint || headers) {
    // vigil has read it: the secret need not stay on disk.
    lib.run([...lib.root({}), 'rm', '-f', files.config]);
  }
  if (r.status !== 0) {
    throw new Error(`vigil did not start (exit ${r.status}):\n${r.stderr.trim()}`);
  }
  process.stdout.write(r.stderr);
  lib.saveState('binary', bin);
  lib.saveState('pid_file', files.pid);
  lib.saveState('log', files.log);
  lib.saveState('report', files.report);
}

// binary returns the vigil to run: the binary input, else the release
// (checksum verified), else one built with go install.
async function binary(dir) {
  const given = lib.input('binary');
  if (given) {
    const bin = path.resolve(process.env.GITHUB_WORKSPACE || '.', given);
    try {
      fs.accessSync(bin, fs.constants.X_OK);
    } catch (err) {
      throw new Error(`binary ${given}: ${err.code}: it must exist when the job starts, since the pre step runs before any other`);
    }
    return bin;
  }
  const version = lib.input('version') || 'latest';
  try {
    return await lib.download(lib.input('release-url'), version, dir);
  } catch (err) {
    lib.warning(`vigil ${version} not downloaded (${err.message}); building it with go install`);
    return lib.goInstall(version, dir);
  }
}

main().catch((err) => {
  lib.error(err.message);
  process.exitCode = 1;
});
