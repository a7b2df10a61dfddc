import { mulawDecode } from '../../codec/mulaw.ts';
import { pcm16ToFloat } from '../../codec/pcm16.ts';
import type { SyncStreamDecoder } from './types.ts';

/** The protocol's `mulaw` output: headerless G.711 μ-law, one byte per sample, so no carry. */
export function createMulawDecoder(sampleRate: number): SyncStreamDecoder {
  return {
    decode(bytes) {
      return { samples: pcm16ToFloat(mulawDecode(bytes)), sampleRate };
    },
    flush() {
      return { samples: new Float32Array(0), sampleRate };
    },
    reset() {},
    close() {},
  };
}
