// The vigil Action's main step: vigil already watches (pre). The step
// names the report for later steps and, when the job's recipes live in
// the repository, has vigil reload them: the pre step ran before the
// checkout that brings them.
'use strict';

const lib = require('./lib');

function main() {
  if (lib.state('skipped')) {
    console.log('vigil is not watching this job (see the notice of its pre step)');
    return;
  }
  lib.setOutput('report', lib.state('report'));
  if (lib.input('recipes')) {
    const r = lib.run([...lib.root(), lib.state('binary'), 'reload', '--pid-file', lib.state('pid_file')]);
    if (r.status !== 0) {
      throw new Error(`reload the recipes of ${lib.input('recipes')}: ${r.stderr.trim()}`);
    }
    console.log(`vigil reloads the recipes of ${lib.input('recipes')}`);
  }
  console.log(`vigil is watching this job; its report will be ${lib.state('report')}`);
}

try {
  main();
} catch (err) {
  lib.error(err.message);
  process.exitCode = 1;
}
