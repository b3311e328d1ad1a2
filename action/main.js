// The vigil Action's main step: vigil already watches (pre); this says so
// where the step list shows it, and names the report for later steps.
'use strict';

const lib = require('./lib');

if (lib.state('skipped')) {
  console.log('vigil is not watching this job (see the notice of its pre step)');
} else {
  lib.setOutput('report', lib.state('report'));
  console.log(`vigil is watching this job; its report will be ${lib.state('report')}`);
}
