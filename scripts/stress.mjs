#!/usr/bin/env node
// `pnpm test:stress`: the README's test command (`npm test`: the set-up, then the `test:run`
// script) beside a CPU hog that keeps one core busy, as a loaded machine would. The tests must
// pass all the same: what must eventually happen is waited for, never timed.
//
//   node scripts/stress.mjs [[--] <pnpm script> [args...]]     (default script: test:run)
//
// The hog is a child process of this one, spinning; it is stopped when the tests end, whatever
// the outcome, on Ctrl-C or SIGTERM, and it stops by itself if this process dies (its IPC
// channel closes). Prints the wall time; exits with the tests' status.
import { spawn } from 'node:child_process';
import { constants } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const given = args[0] === '--' ? args.slice(1) : args;
const script = given.length > 0 ? given : ['test:run'];

// Spins in 50 ms slices so that it notices the channel to its parent closing.
const HOG_SOURCE = `
process.on('disconnect', () => process.exit(0));
const spin = () => {
  const until = Date.now() + 50;
  while (Date.now() < until) {}
  setImmediate(spin);
};
spin();
`;

function log(message) {
  console.log(`[test:stress] ${message}`);
}

function formatDuration(ms) {
  const seconds = Math.round(ms / 1000);
  return `${Math.floor(seconds / 60)} min ${String(seconds % 60).padStart(2, '0')} s`;
}

const hog = spawn(process.execPath, ['-e', HOG_SOURCE], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
hog.on('error', (error) => log(`the CPU hog failed: ${error.message}`));
const stopHog = () => {
  if (hog.exitCode === null && hog.signalCode === null) hog.kill('SIGKILL');
};
// Last resort: whatever ends this process, the hog goes with it.
process.on('exit', stopHog);
log(
  `a CPU hog spins on one core (pid ${hog.pid}); running: npm test's set-up, then pnpm run ${script.join(' ')}`,
);

const started = performance.now();
const tests = spawn(process.execPath, [join(root, 'scripts', 'setup.mjs'), '--browsers', '--', ...script], {
  cwd: root,
  stdio: 'inherit',
});

let interrupted = null;
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(signal, () => {
    // Ctrl-C reaches the tests too (same process group); a signal sent to this process alone is
    // passed on. Either way the hog stops now and this process waits for the tests to end.
    interrupted ??= signal;
    stopHog();
    if (tests.exitCode === null) tests.kill(signal);
  });
}

tests.on('error', (error) => {
  stopHog();
  log(`could not start the tests: ${error.message}`);
  process.exit(1);
});

tests.on('exit', (code, signal) => {
  stopHog();
  const wall = formatDuration(performance.now() - started);
  const status = code ?? 128 + (constants.signals[signal] ?? 0);
  if (interrupted) log(`interrupted (${interrupted}) after ${wall}`);
  else log(`${status === 0 ? 'passed' : `failed (exit ${status})`} beside a CPU hog; wall time ${wall}`);
  process.exit(interrupted ? 130 : status);
});
