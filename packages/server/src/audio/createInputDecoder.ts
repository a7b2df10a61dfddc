import { bytesToPcm16, mulawDecode, pcm16ToFloat } from '@voicewire/core';
import { alawDecode } from './codec/alaw.ts';
import { InputDecodeError } from './errors.ts';
import { OggOpusInput } from './input/oggOpusInput.ts';
import { preloadOpus } from './input/opusStream.ts';
import { WavInput } from './input/wavInput.ts';
import { WebmOpusInput } from './input/webmOpusInput.ts';
import type { AgentInputEncoding, DecodedInput, InputDecoder } from './types.ts';

/**
 * Whether the local agent can decode `audioIn` in this encoding. The headerless codecs other than
 * linear16 and μ-law (flac, amr-nb, amr-wb, opus, speex, g729) have no decoder here: setup
 * refuses them with a 4400 that says so, rather than accepting audio it would ignore. G.711 A-law
 * (`alaw`) is not a talk-protocol encoding, but other vendors' protocols carry it.
 */
export function canDecodeInput(encoding: AgentInputEncoding): boolean {
  return (
    encoding === 'linear16' || encoding === 'mulaw' || encoding === 'alaw' || encoding === 'media-container'
  );
}

const EMPTY = new Float32Array(0);

/**
 * A decoder for one session's `audioIn` payloads. Headerless encodings need the session's
 * `inputSampleRate`; `media-container` reads its format from the data: WAV (PCM or float, mixed
 * down to mono), WebM with Opus (Chrome's MediaRecorder, as in the API page's example, docs/protocol.md) or Ogg Opus
 * (Firefox's); Opus comes out at 48 kHz. Other containers (mp4, …) are refused with an
 * `InputDecodeError` that says what to send.
 */
export function createInputDecoder(encoding: AgentInputEncoding, sampleRate?: number): InputDecoder {
  if (!canDecodeInput(encoding)) {
    throw new InputDecodeError(
      `the local agent cannot decode inputEncoding "${encoding}"; use linear16, mulaw or media-container (WAV, WebM/Opus or Ogg/Opus)`,
    );
  }
  if (encoding === 'media-container') {
    // Most browsers record Opus: have its WASM compiled before the first packet arrives.
    void preloadOpus().catch(() => undefined);
    return new MediaContainerDecoder();
  }
  if (sampleRate === undefined || !Number.isFinite(sampleRate) || sampleRate <= 0) {
    throw new InputDecodeError(`inputEncoding "${encoding}" needs inputSampleRate`);
  }
  const rate = sampleRate;
  if (encoding === 'linear16') {
    return {
      encoding,
      decode(bytes) {
        if (bytes.length % 2 !== 0) {
          // Carrying the odd byte over would shift every later sample by a byte and turn the
          // rest of the session into noise, so the whole chunk is refused instead.
          throw new InputDecodeError(
            `linear16 audio must be whole 16-bit samples, got ${bytes.length} bytes (an odd number)`,
          );
        }
        return { samples: bytes.length === 0 ? EMPTY : pcm16ToFloat(bytesToPcm16(bytes)), sampleRate: rate };
      },
    };
  }
  const expand = encoding === 'alaw' ? alawDecode : mulawDecode;
  return {
    encoding,
    decode(bytes) {
      return { samples: bytes.length === 0 ? EMPTY : pcm16ToFloat(expand(bytes)), sampleRate: rate };
    },
  };
}

const RIFF = [0x52, 0x49, 0x46, 0x46];
const OGGS = [0x4f, 0x67, 0x67, 0x53];
const EBML = [0x1a, 0x45, 0xdf, 0xa3];

function startsWith(bytes: Uint8Array, magic: readonly number[]): boolean {
  if (bytes.length < magic.length) return false;
  for (let i = 0; i < magic.length; i++) if (bytes[i] !== magic[i]) return false;
  return true;
}

/**
 * `media-container`: each chunk that starts with a container's signature opens a new stream in
 * that container (a client that restarts its recorder sends a fresh header); any other chunk
 * continues the current one.
 */
class MediaContainerDecoder implements InputDecoder {
  readonly encoding = 'media-container' as const;
  #current: WavInput | OggOpusInput | WebmOpusInput | undefined;

  decode(bytes: Uint8Array): DecodedInput {
    if (bytes.length === 0) {
      // Nothing new, but Opus packets queued while its decoder loaded may be ready now.
      return this.#current ? this.#current.decode(bytes) : { samples: EMPTY, sampleRate: 0 };
    }
    // A recorder that is restarted sends a fresh header. Ogg chunks from a recorder usually begin
    // with a page of the current stream, so Ogg starts anew only after another container.
    if (startsWith(bytes, RIFF)) this.#current = new WavInput();
    else if (startsWith(bytes, EBML)) this.#current = new WebmOpusInput();
    else if (startsWith(bytes, OGGS) && !(this.#current instanceof OggOpusInput))
      this.#current = new OggOpusInput();
    if (!this.#current) {
      throw new InputDecodeError(
        'media-container audio must start with a WAV (RIFF), WebM or Ogg header; the first chunk had none of them',
      );
    }
    return this.#current.decode(bytes);
  }
}
