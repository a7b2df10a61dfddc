#!/usr/bin/env node
// Runs package.json scripts at the same time, for the test command's steps that only compute
// (lint, typecheck, the builds): on two cores they overlap one another's single-threaded stretches
// and I/O. Each script's output is held and printed whole when it ends, so the log reads as if
// they ran one after another. Exits non-zero if any failed, once all have ended.
//
//   node scripts/run-parallel.mjs <script> [<script>...]
//
// Steps that play real audio or time anything (the tests, `pnpm bench`) stay out of it.
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const scripts = process.argv.slice(2).filter((arg) => arg !== '--');
if (scripts.length === 0) {
  console.error('usage: node scripts/run-parallel.mjs <script> [<script>...]');
  process.exit(2);
}

function log(message) {
  console.log(`[run-parallel] ${message}`);
}

function run(script) {
  const started = performance.now();
  const output = [];
  const child = spawn('pnpm', ['run', script], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout.on('data', (chunk) => output.push(chunk));
  child.stderr.on('data', (chunk) => output.push(chunk));
  return new Promise((resolve) => {
    const finish = (status) => {
      const seconds = ((performance.now() - started) / 1000).toFixed(1);
      process.stdout.write(Buffer.concat(output));
      log(`${script} ${status === 0 ? 'passed' : `failed (exit ${status})`} in ${seconds} s`);
      resolve(status === 0);
    };
    child.on('error', (error) => {
      output.push(Buffer.from(`${error.message}\n`));
      finish(1);
    });
    child.on('close', (code, signal) => finish(code ?? (signal ? 1 : 0)));
  });
}

log(`running at the same time: ${scripts.join(', ')}`);
const started = performance.now();
const results = await Promise.all(scripts.map(run));
const failed = scripts.filter((_, i) => !results[i]);
log(
  `${failed.length === 0 ? 'all passed' : `failed: ${failed.join(', ')}`} in ${((performance.now() - started) / 1000).toFixed(1)} s`,
);
process.exitCode = failed.length === 0 ? 0 : 1;
