/**
 * Signal helpers shared by the tests and the benchmark: make tones, write WAV files for the fake
 * microphone, and measure what came out (level of one frequency, RMS in dBFS).
 */

/** A sine of `frequencyHz` at linear `amplitude` (1 = full scale). */
export function tone(
  frequencyHz: number,
  seconds: number,
  sampleRate: number,
  amplitude = 0.5,
): Float32Array {
  const out = new Float32Array(Math.round(seconds * sampleRate));
  const step = (2 * Math.PI * frequencyHz) / sampleRate;
  for (let i = 0; i < out.length; i++) out[i] = amplitude * Math.sin(step * i);
  return out;
}

/** Concatenate signals. */
export function concat(...parts: Float32Array[]): Float32Array {
  const out = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

/**
 * Amplitude of `frequencyHz` in `samples` (a Hann-windowed single-bin DFT, normalised so that a
 * full-scale sine reads 1.0 whatever its length).
 */
export function toneAmplitude(samples: ArrayLike<number>, frequencyHz: number, sampleRate: number): number {
  const n = samples.length;
  if (n === 0) return 0;
  let re = 0;
  let im = 0;
  let windowSum = 0;
  const w = (2 * Math.PI * frequencyHz) / sampleRate;
  for (let i = 0; i < n; i++) {
    const hann = 0.5 - 0.5 * Math.cos((2 * Math.PI * i) / (n - 1 || 1));
    const x = (samples[i] ?? 0) * hann;
    re += x * Math.cos(w * i);
    im -= x * Math.sin(w * i);
    windowSum += hann;
  }
  return (2 * Math.hypot(re, im)) / windowSum;
}

/** Linear amplitude to dB (full scale = 0 dB). */
export function toDb(amplitude: number): number {
  return 20 * Math.log10(Math.max(amplitude, 1e-12));
}

/** RMS of `samples` in dBFS (a full-scale sine reads about -3 dB). */
export function rmsDb(samples: ArrayLike<number>): number {
  let sum = 0;
  for (let i = 0; i < samples.length; i++) sum += (samples[i] ?? 0) ** 2;
  return toDb(Math.sqrt(sum / Math.max(1, samples.length)));
}

/** A mono 16-bit PCM WAV file. */
export function encodeWav16(samples: Float32Array, sampleRate: number): Uint8Array {
  const bytes = new Uint8Array(44 + samples.length * 2);
  const view = new DataView(bytes.buffer);
  const ascii = (offset: number, text: string) => {
    for (let i = 0; i < text.length; i++) bytes[offset + i] = text.charCodeAt(i);
  };
  ascii(0, 'RIFF');
  view.setUint32(4, 36 + samples.length * 2, true);
  ascii(8, 'WAVE');
  ascii(12, 'fmt ');
  view.setUint32(16, 16, true);
  view.setUint16(20, 1, true);
  view.setUint16(22, 1, true);
  view.setUint32(24, sampleRate, true);
  view.setUint32(28, sampleRate * 2, true);
  view.setUint16(32, 2, true);
  view.setUint16(34, 16, true);
  ascii(36, 'data');
  view.setUint32(40, samples.length * 2, true);
  for (let i = 0; i < samples.length; i++) {
    const s = Math.max(-1, Math.min(1, samples[i] ?? 0));
    view.setInt16(44 + i * 2, s < 0 ? Math.round(s * 0x8000) : Math.round(s * 0x7fff), true);
  }
  return bytes;
}

/** In-place radix-2 FFT (`re.length` a power of two; `inverse`: the unscaled inverse). */
export function fft(re: Float64Array, im: Float64Array, inverse = false): void {
  const n = re.length;
  for (let i = 1, j = 0; i < n; i++) {
    let bit = n >> 1;
    for (; j & bit; bit >>= 1) j ^= bit;
    j ^= bit;
    if (i < j) {
      [re[i], re[j]] = [re[j]!, re[i]!];
      [im[i], im[j]] = [im[j]!, im[i]!];
    }
  }
  for (let size = 2; size <= n; size <<= 1) {
    const angle = ((inverse ? 2 : -2) * Math.PI) / size;
    const wRe = Math.cos(angle);
    const wIm = Math.sin(angle);
    for (let start = 0; start < n; start += size) {
      let cRe = 1;
      let cIm = 0;
      for (let k = 0; k < size / 2; k++) {
        const a = start + k;
        const b = a + size / 2;
        const tRe = re[b]! * cRe - im[b]! * cIm;
        const tIm = re[b]! * cIm + im[b]! * cRe;
        re[b] = re[a]! - tRe;
        im[b] = im[a]! - tIm;
        re[a] = re[a]! + tRe;
        im[a] = im[a]! + tIm;
        const next = cRe * wRe - cIm * wIm;
        cIm = cRe * wIm + cIm * wRe;
        cRe = next;
      }
    }
  }
}

/** Read a mono 16-bit PCM WAV written by {@link encodeWav16} (or any canonical 44-byte-header one). */
export function decodeWav16(bytes: Uint8Array): { samples: Float32Array; sampleRate: number } {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const sampleRate = view.getUint32(24, true);
  const count = Math.floor((bytes.length - 44) / 2);
  const samples = new Float32Array(count);
  for (let i = 0; i < count; i++) samples[i] = view.getInt16(44 + i * 2, true) / 0x8000;
  return { samples, sampleRate };
}

/**
 * A voice-like test signal: syllables of a harmonic tone (a fundamental in `pitchHz`, with
 * three formant-like resonances that change every syllable) under a rise-and-fall envelope,
 * separated by short gaps and now and then a pause, at `level` dBFS RMS while it sounds. Two
 * different `seed`s give two different speakers: their spectra differ from moment to moment as
 * two voices saying different words do. Deterministic (a small linear congruential generator).
 */
export function voiceLike(options: {
  seconds: number;
  sampleRate: number;
  seed: number;
  pitchHz?: [number, number];
  levelDb?: number;
}): Float32Array {
  const { seconds, sampleRate } = options;
  const [pitchLow, pitchHigh] = options.pitchHz ?? [100, 160];
  let state = options.seed >>> 0 || 1;
  const random = () => {
    state = (Math.imul(state, 1_664_525) + 1_013_904_223) >>> 0;
    return state / 2 ** 32;
  };
  const out = new Float32Array(Math.round(seconds * sampleRate));
  let at = 0;
  while (at < out.length) {
    const syllable = Math.round((0.12 + random() * 0.18) * sampleRate);
    const f0 = pitchLow + random() * (pitchHigh - pitchLow);
    const formants = [300 + random() * 600, 900 + random() * 1400, 2200 + random() * 1200];
    const harmonics: { frequency: number; amplitude: number }[] = [];
    for (let f = f0; f < Math.min(7000, sampleRate / 2 - 100); f += f0) {
      let amplitude = 0;
      for (const [k, formant] of formants.entries()) {
        const width = 80 + 60 * k;
        amplitude += 1 / (1 + ((f - formant) / width) ** 2) / (k + 1);
      }
      harmonics.push({ frequency: f, amplitude: amplitude + 0.02 });
    }
    const end = Math.min(out.length, at + syllable);
    const phase = random() * 2 * Math.PI;
    for (let i = at; i < end; i++) {
      const t = (i - at) / sampleRate;
      const position = (i - at) / syllable;
      const envelope = Math.sin(Math.PI * position) ** 0.6;
      let s = 0;
      for (const h of harmonics) s += h.amplitude * Math.sin(2 * Math.PI * h.frequency * t + phase);
      out[i] = s * envelope;
    }
    const gap = random() < 0.15 ? 0.25 + random() * 0.3 : 0.02 + random() * 0.08;
    at = end + Math.round(gap * sampleRate);
  }
  // Scale so that the sounding parts sit at the level asked for.
  let sum = 0;
  let sounding = 0;
  for (const s of out) {
    if (s !== 0) {
      sum += s * s;
      sounding++;
    }
  }
  const rms = Math.sqrt(sum / Math.max(1, sounding));
  const gain = rms > 0 ? 10 ** ((options.levelDb ?? -20) / 20) / rms : 0;
  for (let i = 0; i < out.length; i++) out[i]! *= gain;
  return out;
}
