// The vigil Action's post step, run whatever happened before it: stop
// vigil (it flushes and writes its JSON report), add the Markdown report to
// the job summary, set the outputs and annotations, and apply fail-on.
'use strict';

const fs = require('node:fs');
const lib = require('./lib');

// exitFailOn is vigil report's status when fail-on matched.
const exitFailOn = 3;

function main() {
  if (lib.state('skipped')) {
    return;
  }
  const bin = lib.state('binary');
  const report = lib.state('report');
  if (!bin) {
    lib.warning('vigil did not start in the pre step: nothing to report');
    return;
  }
  const stop = lib.run([...lib.root(), bin, 'stop', '--pid-file', lib.state('pid_file'), '--timeout', '90s']);
  if (stop.status !== 0) {
    lib.error(`vigil stop: ${stop.stderr.trim()}`);
    showLog();
    process.exitCode = 1;
    if (!fs.existsSync(report)) {
      return;
    }
  }

  const args = [bin, 'report', report, '--format', 'markdown'];
  const failOn = lib.input('fail-on');
  if (failOn) {
    args.push('--fail-on', failOn);
  }
  const md = lib.run(args);
  if (md.status !== 0 && md.status !== exitFailOn) {
    throw new Error(`vigil report: ${md.stderr.trim()}`);
  }
  if (process.env.GITHUB_STEP_SUMMARY) {
    fs.appendFileSync(process.env.GITHUB_STEP_SUMMARY, md.stdout);
  }

  const rep = JSON.parse(fs.readFileSync(report, 'utf8'));
  const counts = { critical: 0, high: 0, medium: 0, low: 0 };
  for (const c of rep.recipes || []) {
    counts[c.importance] += c.count;
  }
  lib.setOutput('detections', rep.total);
  for (const [imp, n] of Object.entries(counts)) {
    lib.setOutput(imp, n);
  }
  lib.setOutput('lost', rep.lost ? rep.lost.total : 0);
  lib.setOutput('report', report);

  const line = `vigil: ${rep.total} detection(s), ${rep.execs || 0} execs seen, ${rep.lost ? rep.lost.total : 0} lost`;
  if (rep.lost && rep.lost.total > 0) {
    lib.warning(`${line}: the report counts what was not delivered`);
  } else {
    lib.notice(line);
  }
  if (md.status === exitFailOn) {
    for (const c of (rep.policy && rep.policy.decided_by) || []) {
      lib.error(`${c.count} detection(s): ${c.description || c.recipe}`, { title: `vigil ${c.importance}: ${c.recipe}` });
    }
    lib.error(md.stderr.trim().replace(/^vigil: /, 'vigil '));
    process.exitCode = 1;
  }
}

// showLog prints the end of vigil's own log, for a stop that failed. The
// log is root's: the step reads it as root.
function showLog() {
  const r = lib.run([...lib.root({}), 'tail', '-n', '30', lib.state('log')]);
  console.log(`vigil's log, last lines:\n${(r.stdout || r.stderr).trimEnd()}`);
}

try {
  main();
} catch (err) {
  lib.error(err.message);
  process.exitCode = 1;
}
