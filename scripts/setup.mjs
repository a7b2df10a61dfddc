#!/usr/bin/env node
// Set-up for the README's two commands, on a machine that has only Node.js and npm.
// Idempotent: every step checks before it acts, so a second run costs a few seconds.
//
//   node scripts/setup.mjs [--browsers] [-- <pnpm script> [args...]]
//
// 1. pnpm (the version pinned in package.json's packageManager), installed with npm if missing;
// 2. the workspace's dependencies (pnpm install, frozen lockfile);
// 3. with --browsers, the system packages the tests use (browsers, PulseAudio, Xvfb, redis-server,
//    sox, opus-tools) through apt when we are root; otherwise Playwright's own Chromium download;
// 4. then runs the given pnpm script, with VOICEWIRE_CHROMIUM set to the browser to use.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const dashDash = args.indexOf('--');
const flags = dashDash === -1 ? args : args.slice(0, dashDash);
const script = dashDash === -1 ? [] : args.slice(dashDash + 1);
const wantBrowsers = flags.includes('--browsers');

function log(message) {
  console.log(`[setup] ${message}`);
}

function run(command, commandArgs, options = {}) {
  const result = spawnSync(command, commandArgs, { stdio: 'inherit', cwd: root, ...options });
  return result.status === 0;
}

function quiet(command, commandArgs) {
  const result = spawnSync(command, commandArgs, { cwd: root, encoding: 'utf8' });
  return result.status === 0 ? result.stdout.trim() : null;
}

// 1. pnpm
const pinned = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).packageManager.split('@')[1];
const pinnedMajor = pinned.split('.')[0];
let pnpm = 'pnpm';
const have = quiet('pnpm', ['--version']);
if (!have || have.split('.')[0] !== pinnedMajor) {
  log(`installing pnpm@${pinned} with npm`);
  if (!run('npm', ['install', '--global', `pnpm@${pinned}`])) {
    // Without write access to npm's global prefix, keep pnpm inside the checkout.
    const prefix = join(root, 'node_modules', '.tools');
    if (!run('npm', ['install', '--global', '--prefix', prefix, `pnpm@${pinned}`])) {
      log('could not install pnpm');
      process.exit(1);
    }
    pnpm = join(prefix, 'bin', 'pnpm');
    process.env.PATH = `${join(prefix, 'bin')}:${process.env.PATH}`;
  }
}

// 2. dependencies
log('installing dependencies');
if (!run(pnpm, ['install', '--frozen-lockfile', '--prefer-offline'])) {
  log('pnpm install failed');
  process.exit(1);
}

// 3. The system packages the tests drive, from Debian's archive (idempotent: only the missing ones
//    are installed). Browsers: Debian's Chromium, Firefox ESR and WebKitGTK's MiniBrowser with its
//    WebDriver (no test tool may download a browser of its own here); Xvfb for MiniBrowser's window;
//    PulseAudio as the audio device and fake microphone of Firefox and WebKit; redis-server for the
//    relay's shared store; sox and opus-tools for the audio tests' reference encoders.
const SYSTEM_PACKAGES = [
  'chromium',
  'firefox-esr',
  'webkit2gtk-driver',
  'libwebkit2gtk-4.1-0',
  'xvfb',
  'xauth',
  'pulseaudio',
  'pulseaudio-utils',
  'redis-server',
  'sox',
  'opus-tools',
];

function installed(name) {
  const status = quiet('dpkg-query', ['-W', '-f=${Status}', name]);
  return status !== null && status.endsWith(' installed');
}

if (wantBrowsers) {
  const canApt =
    process.getuid?.() === 0 && existsSync('/usr/bin/apt-get') && existsSync('/usr/bin/dpkg-query');
  if (canApt) {
    const missing = SYSTEM_PACKAGES.filter((name) => !installed(name));
    if (missing.length > 0) {
      log(`installing with apt: ${missing.join(' ')}`);
      const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
      run('apt-get', ['update', '-qq'], { env });
      if (!run('apt-get', ['install', '-y', '-qq', ...missing], { env })) {
        log('apt-get install failed');
        process.exit(1);
      }
    }
  }
  const candidates = [process.env.VOICEWIRE_CHROMIUM, '/usr/bin/chromium', '/usr/bin/chromium-browser'];
  const chromium = candidates.find((path) => path && existsSync(path));
  if (chromium) {
    process.env.VOICEWIRE_CHROMIUM = chromium;
    log(`browser tests use ${chromium}`);
  } else {
    log("installing Playwright's Chromium");
    if (!run(pnpm, ['exec', 'playwright', 'install', '--with-deps', 'chromium'])) {
      run(pnpm, ['exec', 'playwright', 'install', 'chromium']);
    }
  }
}

// 4. the script
if (script.length > 0) {
  const result = spawnSync(pnpm, ['run', ...script], { stdio: 'inherit', cwd: root, env: process.env });
  process.exit(result.status ?? 1);
}
