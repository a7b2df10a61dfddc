import { VoicewireError } from '../errors.ts';
import { type CaptureEncoding, MAX_SAMPLE_RATE_HZ, MIN_SAMPLE_RATE_HZ } from '../providers/types.ts';

export const DEFAULT_INPUT_ENCODING: CaptureEncoding = 'linear16';
export const DEFAULT_INPUT_SAMPLE_RATE_HZ = 16_000;
export const DEFAULT_FRAME_MS = 20;
export const MIN_FRAME_MS = 10;
export const MAX_FRAME_MS = 100;

/** What the microphone is sent as: the wire rate and encoding, and the frame length. */
export interface CaptureFormat {
  sampleRate: number;
  encoding: CaptureEncoding;
  frameMs: number;
  /** Samples per frame: `sampleRate * frameMs / 1000`, a whole number. */
  frameSamples: number;
}

/** The capture format with its defaults filled in (not yet checked: see {@link captureFormatProblem}). */
export function withCaptureDefaults(options: {
  sampleRate?: number | undefined;
  encoding?: CaptureEncoding | undefined;
  frameMs?: number | undefined;
}): CaptureFormat {
  const sampleRate = options.sampleRate ?? DEFAULT_INPUT_SAMPLE_RATE_HZ;
  const frameMs = options.frameMs ?? DEFAULT_FRAME_MS;
  return {
    sampleRate,
    encoding: options.encoding ?? DEFAULT_INPUT_ENCODING,
    frameMs,
    frameSamples: Math.round((sampleRate * frameMs) / 1000),
  };
}

/**
 * What is wrong with a capture format, or null. `prefix` names the options object the fields
 * came from (`'input.'` for a conversation's), so the message points at what to change.
 */
export function captureFormatProblem(format: CaptureFormat, prefix = ''): string | null {
  const { sampleRate, encoding, frameMs } = format;
  if (encoding !== 'linear16' && encoding !== 'mulaw') {
    return `${prefix}encoding must be "linear16" or "mulaw" (got "${String(encoding)}").`;
  }
  if (!Number.isInteger(sampleRate) || sampleRate < MIN_SAMPLE_RATE_HZ || sampleRate > MAX_SAMPLE_RATE_HZ) {
    return `${prefix}sampleRate must be an integer from ${MIN_SAMPLE_RATE_HZ} to ${MAX_SAMPLE_RATE_HZ} Hz (got ${sampleRate}).`;
  }
  if (!(frameMs >= MIN_FRAME_MS && frameMs <= MAX_FRAME_MS)) {
    return `${prefix}frameMs must be from ${MIN_FRAME_MS} to ${MAX_FRAME_MS} (got ${frameMs}).`;
  }
  if (format.frameSamples * 1000 !== sampleRate * frameMs) {
    return `${prefix}frameMs: ${frameMs} ms at ${sampleRate} Hz is not a whole number of samples.`;
  }
  return null;
}

/** Defaults filled in and checked; throws a VoicewireError of kind `invalid-options`. */
export function resolveCaptureFormat(options: Parameters<typeof withCaptureDefaults>[0]): CaptureFormat {
  const format = withCaptureDefaults(options);
  const problem = captureFormatProblem(format);
  if (problem !== null) throw new VoicewireError({ kind: 'invalid-options', message: problem });
  return format;
}
