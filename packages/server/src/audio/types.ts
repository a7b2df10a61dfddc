import type { InputEncoding, OutputFormat } from '@voicewire/core/playai/protocol';

/**
 * What the agent's audio can be encoded as: the talk protocol's six output formats, and the
 * headerless codecs other vendors' protocols carry: `pcm16` (16-bit little-endian PCM) and
 * `alaw` (G.711 A-law). μ-law is the talk protocol's `mulaw`.
 */
export type AgentAudioFormat = OutputFormat | 'pcm16' | 'alaw';

/** What the agent can decode from a client: the talk protocol's encodings, and G.711 A-law. */
export type AgentInputEncoding = InputEncoding | 'alaw';

/**
 * A streaming encoder for one agent audio stream (one `newAudioStream` … `audioStreamEnd`).
 *
 * Feed it mono float samples at `sampleRate` as they become available; every call returns the
 * bytes that are ready to go out as an `audioStream` chunk (possibly none). The concatenation of
 * everything returned, `finish()` included, is one stream a standard decoder accepts, and each
 * chunk is small enough for a streaming decoder to start playing before the stream ends.
 * Start a new encoder for every new audio stream: wav, ogg and flac streams open with headers.
 */
export interface OutputEncoder {
  readonly format: AgentAudioFormat;
  /** Rate of the samples given to `encode()` (the session's `outputSampleRate`). */
  readonly sampleRate: number;
  /**
   * Rate the stream itself carries. Equal to `sampleRate` except for mp3 at a rate MPEG audio
   * cannot carry (it has nine: 8000 … 48000): the encoder then resamples to the nearest MPEG rate
   * at or above it (48000 for anything higher) and the frame headers say so, which every mp3
   * decoder honours.
   */
  readonly streamSampleRate: number;
  /** Encode more samples (any length, including zero); returns the bytes ready to send. */
  encode(samples: Float32Array): Uint8Array;
  /** Flush what the codec still holds and end the stream; the encoder cannot be used afterwards. */
  finish(): Uint8Array;
}

/** Decoded client audio: mono float samples and their rate (a WAV stream brings its own; Opus is 48 kHz). */
export interface DecodedInput {
  samples: Float32Array;
  sampleRate: number;
}

/**
 * Decodes the `audioIn` payloads of one session, in order. Stateful: a WAV header in the first
 * chunk fixes the format of the chunks that follow, and bytes that end mid-sample are carried over
 * to the next chunk where the format allows it. Opus packets that arrive while the Opus decoder's
 * WASM is still starting (the first moments of a process) are held and come out of a later call,
 * an empty payload included.
 */
export interface InputDecoder {
  readonly encoding: AgentInputEncoding;
  /**
   * Decode one `audioIn` payload. Throws `InputDecodeError` for data that does not fit the
   * encoding (the decoder stays usable: the next well-formed chunk decodes normally).
   */
  decode(bytes: Uint8Array): DecodedInput;
}

export interface SynthesizeSpeechOptions {
  /** Output rate in Hz. @defaultValue 24000 */
  sampleRate?: number;
  /**
   * A mespeak voice shipped in the `mespeak` package, named by its path under `mespeak/voices`
   * without `.json`: `en/en-us`, `en/en`, `en/en-rp`, `en/en-sc`, `en/en-n`, `en/en-wm`, `de`,
   * `fr`, `es`, … @defaultValue 'en/en-us'
   */
  voice?: string;
  /** Speaking rate relative to normal (175 words per minute), 0.5 … 2. @defaultValue 1 */
  speed?: number;
}
