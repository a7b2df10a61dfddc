import { type ChildProcess, fork } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createResampler } from '@voicewire/core';
import type { SynthesizeSpeechOptions } from './types.ts';

/** eSpeak renders at this rate whatever is asked; the result is resampled to the caller's rate. */
const ESPEAK_RATE_HZ = 22_050;
const DEFAULT_RATE_HZ = 24_000;
const DEFAULT_VOICE = 'en/en-us';
/**
 * Requests one mespeak process serves before it is replaced. Its Emscripten file system corrupts
 * itself after several dozen runs (seen at ~60–80 here) and then aborts the process; a fresh
 * process long before that costs ~0.3 s of CPU once.
 */
const REQUESTS_PER_PROCESS = 30;
/** Below this level (about -50 dBFS) a sample counts as silence when trimming. */
const SILENCE_THRESHOLD = 0.003;
/** Kept around the speech when trimming, so the first and last phonemes keep their edges. */
const TRIM_MARGIN_MS = 10;
/** Synthesised utterances kept (greetings and stock replies repeat across sessions). */
const CACHE_ENTRIES = 64;

const require = createRequire(import.meta.url);
const here = dirname(fileURLToPath(import.meta.url));

/**
 * Speech for `text`, rendered offline by mespeak from the voice files in its npm package: mono
 * float samples at `sampleRate` (default 24000), with leading and trailing silence trimmed.
 *
 * mespeak runs in a child process (see mespeakProcess.cjs for why), so synthesis never blocks the
 * agent's event loop, and results are cached by text, voice, speed and rate. The first call starts
 * the process (~0.3–1 s); `prepareSpeech()` does that ahead of time.
 */
export async function synthesizeSpeech(
  text: string,
  options: SynthesizeSpeechOptions = {},
): Promise<Float32Array> {
  const sampleRate = options.sampleRate ?? DEFAULT_RATE_HZ;
  const voice = options.voice ?? DEFAULT_VOICE;
  const speed = options.speed ?? 1;
  if (!Number.isInteger(sampleRate) || sampleRate < 3000 || sampleRate > 768_000) {
    throw new RangeError(`synthesizeSpeech: sampleRate must be an integer number of Hz, got ${sampleRate}`);
  }
  if (!(speed >= 0.5 && speed <= 2))
    throw new RangeError(`synthesizeSpeech: speed must be 0.5–2, got ${speed}`);
  if (!availableVoices().includes(voice)) {
    throw new RangeError(
      `synthesizeSpeech: unknown voice ${JSON.stringify(voice)}; mespeak ships ${availableVoices().join(', ')}`,
    );
  }
  const spoken = text.trim();
  if (spoken === '') return new Float32Array(0);

  const key = `${sampleRate}\u0000${voice}\u0000${speed}\u0000${spoken}`;
  const entry = cached(rendered, key, async () => {
    // One mespeak run per text, voice and speed, whatever rates it is asked at: resampling the
    // cached native render costs milliseconds, a synthesis hundreds.
    const native = await cached(natives, `${voice}\u0000${speed}\u0000${spoken}`, () =>
      renderNative(spoken, voice, speed),
    );
    return resampleWhole(native, ESPEAK_RATE_HZ, sampleRate);
  });
  // Callers own what they get: hand out a copy, never the cached array.
  return (await entry).slice();
}

/** Start the speech process now, so the first greeting does not wait for mespeak to load. */
export async function prepareSpeech(): Promise<void> {
  await synthesizeSpeech('Ready.', { sampleRate: ESPEAK_RATE_HZ }).catch(() => undefined);
}

/** The mespeak voices this installation has (`en/en-us`, `de`, …). */
export function availableVoices(): string[] {
  if (!voices) {
    const root = join(dirname(require.resolve('mespeak/package.json')), 'voices');
    const found: string[] = [];
    const walk = (dir: string) => {
      for (const item of readdirSync(dir, { withFileTypes: true })) {
        const path = join(dir, item.name);
        if (item.isDirectory()) walk(path);
        else if (item.name.endsWith('.json'))
          found.push(relative(root, path).slice(0, -5).split('\\').join('/'));
      }
    };
    walk(root);
    voices = found.sort();
  }
  return voices;
}
let voices: string[] | undefined;

/** Renders at eSpeak's own rate (trimmed), and per requested rate; least recently used go first. */
const natives = new Map<string, Promise<Float32Array>>();
const rendered = new Map<string, Promise<Float32Array>>();

function cached(cache: Map<string, Promise<Float32Array>>, key: string, make: () => Promise<Float32Array>) {
  let entry = cache.get(key);
  if (entry) {
    cache.delete(key); // re-inserted below: most recently used last
  } else {
    entry = make();
    // A failure is not cached: the next call tries again.
    entry.catch(() => {
      if (cache.get(key) === entry) cache.delete(key);
    });
  }
  cache.set(key, entry);
  while (cache.size > CACHE_ENTRIES) cache.delete(cache.keys().next().value!);
  return entry;
}

async function renderNative(text: string, voice: string, speed: number): Promise<Float32Array> {
  let wav: Uint8Array;
  try {
    wav = await speech.request(text, voice, speed);
  } catch (error) {
    // A crashed process is replaced on the next request; try once more before giving up.
    if (!(error instanceof SpeechProcessExit)) throw error;
    wav = await speech.request(text, voice, speed);
  }
  return trimSilence(wavToFloat(wav), ESPEAK_RATE_HZ);
}

/** The 16-bit mono samples of the WAV file eSpeak writes. */
function wavToFloat(wav: Uint8Array): Float32Array {
  const view = new DataView(wav.buffer, wav.byteOffset, wav.byteLength);
  let offset = 12;
  while (offset + 8 <= wav.length) {
    const id = String.fromCharCode(wav[offset]!, wav[offset + 1]!, wav[offset + 2]!, wav[offset + 3]!);
    const size = view.getUint32(offset + 4, true);
    if (id === 'data') {
      // eSpeak streams its WAV too, so the size may be a placeholder: trust the bytes present.
      const end = Math.min(wav.length, offset + 8 + size);
      const count = Math.floor((end - offset - 8) / 2);
      const out = new Float32Array(count);
      for (let i = 0; i < count; i++) out[i] = view.getInt16(offset + 8 + i * 2, true) / 32768;
      return out;
    }
    offset += 8 + size + (size % 2);
  }
  throw new Error('mespeak returned a WAV file without audio');
}

function trimSilence(samples: Float32Array, sampleRate: number): Float32Array {
  let first = 0;
  while (first < samples.length && Math.abs(samples[first]!) < SILENCE_THRESHOLD) first++;
  let last = samples.length - 1;
  while (last > first && Math.abs(samples[last]!) < SILENCE_THRESHOLD) last--;
  if (first >= samples.length) return new Float32Array(0);
  const margin = Math.round((TRIM_MARGIN_MS / 1000) * sampleRate);
  return samples.slice(Math.max(0, first - margin), Math.min(samples.length, last + 1 + margin));
}

/** Resample a whole utterance, removing the filter's delay and flushing its tail. */
function resampleWhole(samples: Float32Array, fromRate: number, toRate: number): Float32Array {
  if (fromRate === toRate || samples.length === 0) return samples;
  const resampler = createResampler(fromRate, toRate);
  const delay = Math.round(resampler.latencySamples);
  const expected = Math.round((samples.length * toRate) / fromRate);
  const padded = new Float32Array(samples.length + Math.ceil(((delay + 2) * fromRate) / toRate) + 2);
  padded.set(samples);
  const out = resampler.process(padded);
  return out.slice(delay, delay + expected);
}

class SpeechProcessExit extends Error {}

interface Pending {
  resolve(wav: Uint8Array): void;
  reject(error: Error): void;
}

/** The mespeak child process: started on demand, retired after a batch of requests, restarted if it dies. */
class SpeechProcess {
  #child: ChildProcess | undefined;
  #served = 0;
  #nextId = 1;
  #pending = new Map<number, { child: ChildProcess } & Pending>();

  request(text: string, voice: string, speed: number): Promise<Uint8Array> {
    const child = this.#current();
    const id = this.#nextId++;
    return new Promise<Uint8Array>((resolve, reject) => {
      this.#pending.set(id, { child, resolve, reject });
      child.ref();
      (child.channel as { ref?(): void } | undefined)?.ref?.();
      // A process that could not start or has just died fails the send (or calls back with an
      // error): the request then fails like one whose process exited, and is retried once.
      const fail = (error: Error | null) => {
        if (!error || !this.#pending.has(id)) return;
        this.#pending.delete(id);
        reject(new SpeechProcessExit(`speech synthesis process unavailable: ${error.message}`));
      };
      try {
        child.send({ id, text, voice, speed }, fail);
      } catch (error) {
        fail(error instanceof Error ? error : new Error(String(error)));
      }
    });
  }

  close(): void {
    this.#child?.kill();
    this.#child = undefined;
  }

  #current(): ChildProcess {
    if (this.#child && this.#served < REQUESTS_PER_PROCESS && this.#child.connected) {
      this.#served++;
      return this.#child;
    }
    // Retire the old process: it finishes what it was asked, then exits on disconnect.
    const old = this.#child;
    if (old?.connected && !this.#hasPending(old)) old.disconnect();
    const child = fork(join(here, 'tts', 'mespeakProcess.cjs'), [], {
      serialization: 'advanced',
      stdio: ['ignore', 'ignore', 'ignore', 'ipc'],
      execArgv: [], // plain CommonJS: no TypeScript loader needed, and none of the parent's flags
    });
    child.on('message', (message: { id: number; wav?: Uint8Array; error?: string }) => {
      const pending = this.#pending.get(message.id);
      if (!pending) return;
      this.#pending.delete(message.id);
      if (message.wav) pending.resolve(message.wav);
      else pending.reject(new Error(`speech synthesis failed: ${message.error ?? 'unknown error'}`));
      this.#idle(child);
    });
    child.on('exit', (code, signal) => {
      for (const [id, pending] of this.#pending) {
        if (pending.child !== child) continue;
        this.#pending.delete(id);
        pending.reject(
          new SpeechProcessExit(`speech synthesis process exited (${signal ?? `code ${code}`})`),
        );
      }
      if (this.#child === child) this.#child = undefined;
    });
    child.on('error', (error) => {
      // Spawning failed (no 'exit' follows) or the IPC channel broke: nothing is coming back.
      for (const [id, pending] of this.#pending) {
        if (pending.child !== child) continue;
        this.#pending.delete(id);
        pending.reject(new SpeechProcessExit(`speech synthesis process failed: ${error.message}`));
      }
      if (this.#child === child) this.#child = undefined;
    });
    this.#child = child;
    this.#served = 1;
    return child;
  }

  #hasPending(child: ChildProcess): boolean {
    for (const pending of this.#pending.values()) if (pending.child === child) return true;
    return false;
  }

  /** An idle process must not keep the agent (or a test run) alive. */
  #idle(child: ChildProcess): void {
    if (this.#hasPending(child)) return;
    if (child !== this.#child) {
      if (child.connected) child.disconnect();
      return;
    }
    child.unref();
    (child.channel as { unref?(): void } | undefined)?.unref?.();
  }
}

const speech = new SpeechProcess();

/** Stop the speech process (it restarts on the next request). For a clean shutdown. */
export function closeSpeech(): void {
  speech.close();
}
