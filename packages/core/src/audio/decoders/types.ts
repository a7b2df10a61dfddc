/** Mono samples decoded from a chunk, at the rate the stream says it has. */
export interface DecodedAudio {
  samples: Float32Array;
  sampleRate: number;
}

/**
 * A streaming decoder: fed chunks cut anywhere, it returns the samples that are complete and
 * keeps the rest (a partial sample, a partial header, a partial compressed frame) for the next.
 */
export interface StreamDecoder {
  decode(bytes: Uint8Array): DecodedAudio | Promise<DecodedAudio>;
  /** Whatever the decoder still holds at the end of a stream. */
  flush(): DecodedAudio | Promise<DecodedAudio>;
  /** Forget the current stream (a new one starts, possibly with its own header). */
  reset(): void | Promise<void>;
  close(): void;
}

export const EMPTY_SAMPLES = new Float32Array(0);

/** The PCM formats decode synchronously (no WASM, nothing to wait for). */
export interface SyncStreamDecoder extends StreamDecoder {
  decode(bytes: Uint8Array): DecodedAudio;
  flush(): DecodedAudio;
  reset(): void;
}
