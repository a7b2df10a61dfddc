import { createResampler } from '@voicewire/core';
import { createEncoder, type WasmMediaEncoder } from 'wasm-media-encoders';
import type { OutputEncoder } from '../types.ts';
import { sanitizeSamples } from './sanitize.ts';
import { wasmEncoderModule } from './wasmModules.ts';

/** The protocol's mp3 bit rate (docs/protocol.md, "setup": mp3 is 128 kbps), constant. */
const MP3_BITRATE_KBPS = 128;

/** The sample rates MPEG-1/2/2.5 Layer III frames can carry. */
const MP3_SAMPLE_RATES = [8000, 11025, 12000, 16000, 22050, 24000, 32000, 44100, 48000] as const;
type Mp3SampleRate = (typeof MP3_SAMPLE_RATES)[number];

/**
 * The rate an mp3 stream is written at for a requested output rate: the rate itself when MPEG can
 * carry it, else the next MPEG rate above it (so none of the requested bandwidth is lost), and
 * 48000 for anything above 48 kHz. Setup accepts 8000–96000 Hz for every format, and refusing a
 * valid setup would be worse than sending 48 kHz: every mp3 decoder takes the rate from the frame
 * headers and resamples to its output anyway. Nothing above 24 kHz of audio is lost either way.
 */
function mp3StreamRate(sampleRate: number): Mp3SampleRate {
  for (const rate of MP3_SAMPLE_RATES) if (rate >= sampleRate) return rate;
  return 48000;
}

type Lame = WasmMediaEncoder<'audio/mpeg'>;

/**
 * LAME instances kept for reuse: `configure()` resets one completely, so a finished stream's
 * instance serves the next `newAudioStream` without instantiating the WASM again.
 */
const idleLame: Lame[] = [];
/** Each LAME instance holds 16 MB of WASM memory: keep only a few. */
const MAX_IDLE_LAME = 4;

/**
 * mp3 through LAME (wasm-media-encoders), 128 kbps CBR, mono. LAME at 8–12 kHz (MPEG-2.5) caps
 * the rate at 64 kbps, which it picks itself. No Xing/Info frame is written (a streamed file
 * cannot be patched afterwards), so the only delay is the codec's own: 576 samples of encoder
 * delay, 529 more in the decoder; frames come out as soon as LAME has its look-ahead.
 */
export async function createMp3Encoder(sampleRate: number): Promise<OutputEncoder> {
  const streamRate = mp3StreamRate(sampleRate);
  const lame = idleLame.pop() ?? (await createEncoder('audio/mpeg', await wasmEncoderModule('mp3')));
  lame.configure({
    channels: 1,
    sampleRate: streamRate,
    bitrate: MP3_BITRATE_KBPS,
    outputSampleRate: streamRate,
  });
  const resampler = streamRate === sampleRate ? undefined : createResampler(sampleRate, streamRate);
  let finished = false;
  return {
    format: 'mp3',
    sampleRate,
    streamSampleRate: streamRate,
    encode(samples) {
      if (finished) throw new Error('mp3 encoder: encode() after finish()');
      const clean = sanitizeSamples(samples);
      const input = resampler ? resampler.process(clean) : clean;
      if (input.length === 0) return new Uint8Array(0);
      // The returned view points into the WASM heap and is overwritten by the next call.
      return lame.encode([input]).slice();
    },
    finish() {
      if (finished) throw new Error('mp3 encoder: finish() called twice');
      finished = true;
      // The resampler holds back its filter's delay; push it out so the stream ends whole.
      let tail = new Uint8Array(0);
      if (resampler) {
        const flush = resampler.process(
          new Float32Array(Math.ceil((resampler.latencySamples * sampleRate) / streamRate) + 1),
        );
        if (flush.length > 0) tail = lame.encode([flush]).slice();
      }
      const last = lame.finalize();
      const out = new Uint8Array(tail.length + last.length);
      out.set(tail);
      out.set(last, tail.length);
      if (idleLame.length < MAX_IDLE_LAME) idleLame.push(lame);
      return out;
    },
  };
}
