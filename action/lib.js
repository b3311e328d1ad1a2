// What the vigil Action's pre, main and post steps share: the runner's
// files (inputs, state, outputs, summary), running vigil, and getting it.
// Node's own modules only: nothing to install, nothing to vendor.
'use strict';

const childProcess = require('node:child_process');
const crypto = require('node:crypto');
const fs = require('node:fs');
const http = require('node:http');
const https = require('node:https');
const os = require('node:os');
const path = require('node:path');

// input returns an input of action.yml, as the runner passes it.
function input(name) {
  return (process.env[`INPUT_${name.replace(/ /g, '_').toUpperCase()}`] || '').trim();
}

// appendTo adds name=value to one of the runner's files (GITHUB_STATE,
// GITHUB_OUTPUT), in its multi-line form so that any value fits.
function appendTo(fileVar, name, value) {
  const file = process.env[fileVar];
  if (!file) {
    throw new Error(`${fileVar} is not set: not running as a GitHub Actions step`);
  }
  const delim = `vigil_${crypto.randomBytes(8).toString('hex')}`;
  fs.appendFileSync(file, `${name}<<${delim}${os.EOL}${value}${os.EOL}${delim}${os.EOL}`);
}

const saveState = (name, value) => appendTo('GITHUB_STATE', name, String(value));
const setOutput = (name, value) => appendTo('GITHUB_OUTPUT', name, String(value));
const state = (name) => process.env[`STATE_${name}`] || '';

// Workflow commands: annotations and notices in the job's log and page.
function escapeData(s) {
  return String(s).replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A');
}
function escapeProperty(s) {
  return escapeData(s).replace(/:/g, '%3A').replace(/,/g, '%2C');
}
function command(kind, message, props = {}) {
  const p = Object.entries(props).map(([k, v]) => `${k}=${escapeProperty(v)}`).join(',');
  process.stdout.write(`::${kind}${p ? ' ' + p : ''}::${escapeData(message)}${os.EOL}`);
}
const notice = (m, p) => command('notice', m, p);
const warning = (m, p) => command('warning', m, p);
const error = (m, p) => command('error', m, p);

// skipReason says why vigil cannot watch this job, or '' when it can.
function skipReason(env = process.env, platform = process.platform, arch = process.arch) {
  if (platform !== 'linux') {
    return `vigil watches Linux runners; this one runs ${platform}`;
  }
  if (arch !== 'x64' && arch !== 'arm64') {
    return `vigil runs on amd64 and arm64; this runner is ${arch}`;
  }
  // A container job runs its steps, this one included, inside the job's
  // container, where the runner mounts the workspace at /__w: the host's
  // kernel and processes are out of reach there. (A self-hosted runner
  // that itself runs in a privileged container is not one.)
  if ((env.GITHUB_WORKSPACE || '').startsWith('/__w/')) {
    return 'vigil watches the runner itself; in a container job its steps run in a container, where it cannot load its programs';
  }
  return '';
}

// root returns the prefix that runs a command as root: nothing when the
// step already is, passwordless sudo on hosted runners. sudo resets the
// environment: what vigil reads of it (proxies, OTEL_* settings, the CI's
// variables for its resource) is kept by name, nothing else.
function root(env = process.env) {
  if (process.getuid && process.getuid() === 0) {
    return [];
  }
  const keep = Object.keys(env).filter((k) => /^(OTEL_|GITHUB_|RUNNER_)|^(CI|https?_proxy|no_proxy)$/i.test(k) && k !== 'GITHUB_TOKEN');
  return ['sudo', '-n', ...(keep.length ? [`--preserve-env=${keep.join(',')}`] : [])];
}

// writeRootFile writes data to a file only root reads: through sudo when
// the step is not root, so that the job's later steps, which run as the
// step's user, cannot read it.
function writeRootFile(file, data) {
  const r = run([...root({}), 'sh', '-c', 'umask 077 && cat > "$1"', 'sh', file], { input: data });
  if (r.status !== 0) {
    throw new Error(`write ${file}: ${r.stderr.trim()}`);
  }
}

// run runs a program to its end and returns its status and output, which
// may be as big as a Markdown report (1 MiB) and then some.
function run(argv, opts = {}) {
  const r = childProcess.spawnSync(argv[0], argv.slice(1), { encoding: 'utf8', maxBuffer: 64 << 20, ...opts });
  if (r.error) {
    throw new Error(`${argv[0]}: ${r.error.message}`);
  }
  return { status: r.status === null ? 128 : r.status, stdout: r.stdout || '', stderr: r.stderr || '' };
}

// goArch names a Node architecture as Go and the release assets do.
const goArch = (arch = process.arch) => (arch === 'x64' ? 'amd64' : arch);

// fetch returns the body of url, following redirects (GitHub's release
// downloads redirect to their storage).
function fetch(url, redirects = 5) {
  return new Promise((resolve, reject) => {
    const get = url.startsWith('https:') ? https.get : http.get;
    get(url, { headers: { 'User-Agent': 'vigil-action' } }, (res) => {
      if (res.statusCode >= 300 && res.statusCode < 400 && res.headers.location && redirects > 0) {
        res.resume();
        resolve(fetch(new URL(res.headers.location, url).toString(), redirects - 1));
        return;
      }
      if (res.statusCode !== 200) {
        res.resume();
        reject(new Error(`GET ${url}: HTTP ${res.statusCode}`));
        return;
      }
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve(Buffer.concat(chunks)));
      res.on('error', reject);
    }).on('error', (err) => reject(new Error(`GET ${url}: ${err.message}`)));
  });
}

// releaseURLs returns the addresses of the archive for this machine and
// of the checksums file, for a version ("latest" or a tag).
function releaseURLs(base, version, arch = goArch()) {
  base = base.replace(/\/+$/, '');
  const dir = version === 'latest' ? `${base}/latest/download` : `${base}/download/${version}`;
  const archive = `vigil_linux_${arch}.tar.gz`;
  return { archive: `${dir}/${archive}`, checksums: `${dir}/checksums.txt`, name: archive };
}

// checksumOf finds name's SHA-256 in a checksums file (sha256sum's format).
function checksumOf(checksums, name) {
  for (const line of checksums.split('\n')) {
    const m = line.trim().match(/^([0-9a-f]{64})\s+\*?(.+)$/);
    if (m && m[2] === name) {
      return m[1];
    }
  }
  return '';
}

// download gets a release of vigil into dir and returns the binary's
// path. The archive is refused unless its SHA-256 is the one the
// release's checksums file gives.
async function download(base, version, dir) {
  const urls = releaseURLs(base, version);
  const [archive, checksums] = await Promise.all([fetch(urls.archive), fetch(urls.checksums)]);
  const want = checksumOf(checksums.toString('utf8'), urls.name);
  if (!want) {
    throw new Error(`${urls.checksums} has no checksum for ${urls.name}`);
  }
  const got = crypto.createHash('sha256').update(archive).digest('hex');
  if (got !== want) {
    throw new Error(`checksum mismatch for ${urls.archive}: got ${got}, the release says ${want}; not used`);
  }
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, urls.name);
  fs.writeFileSync(file, archive);
  const tar = run(['tar', '-xzf', file, '-C', dir, 'vigil']);
  if (tar.status !== 0) {
    throw new Error(`extract ${urls.name}: ${tar.stderr.trim()}`);
  }
  return path.join(dir, 'vigil');
}

// goInstall builds vigil with the Go toolchain, when the runner has one.
function goInstall(version, dir) {
  const v = version === 'latest' ? 'latest' : version;
  const r = run(['go', 'install', `github.com/vigil-otel/vigil/cmd/vigil@${v}`], {
    env: { ...process.env, GOBIN: dir, CGO_ENABLED: '0' },
  });
  if (r.status !== 0) {
    throw new Error(`go install: ${r.stderr.trim()}`);
  }
  return path.join(dir, 'vigil');
}

// headersYAML turns "k=v,k2=v2" into the YAML map of the config file.
function headersYAML(headers) {
  const lines = [];
  for (const pair of headers.split(',')) {
    if (!pair.trim()) continue;
    const i = pair.indexOf('=');
    if (i <= 0) {
      throw new Error('otlp-headers: want key=value pairs separated by commas');
    }
    lines.push(`    ${JSON.stringify(pair.slice(0, i).trim())}: ${JSON.stringify(pair.slice(i + 1).trim())}`);
  }
  return lines.join('\n');
}

module.exports = {
  input, saveState, setOutput, state, notice, warning, error, skipReason, root, run, writeRootFile,
  goArch, releaseURLs, checksumOf, download, goInstall, headersYAML,
};
