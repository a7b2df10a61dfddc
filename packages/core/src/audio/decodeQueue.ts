import type { DecodedAudio, StreamDecoder } from './decoders/types.ts';
import { joinBytes } from './playerParts.ts';

type QueueEntry =
  | { kind: 'bytes'; generation: number; bytes: Uint8Array }
  | { kind: 'end'; generation: number }
  | { kind: 'reset' };

/** What the player tells its decode queue, and what the queue hands back. */
export interface DecodeQueueHost {
  /** The decoder in use (replaced when the format changes). */
  decoder(): StreamDecoder;
  /** The stream now playing; entries of an older one are dropped. */
  generation(): number;
  /** The current stream was interrupted: nothing more of it is decoded. */
  interrupted(): boolean;
  closed(): boolean;
  /** Decoded audio of `generation`'s stream. */
  deliver(generation: number, decoded: DecodedAudio): void;
  /** The end of `generation`'s stream came out of the decoder (its tail was delivered). */
  ended(generation: number): void;
  /** A chunk that will never be decoded (its stream was interrupted or replaced). */
  dropped(): void;
  fail(message: string, cause: unknown): void;
  /** The format's name, for error messages. */
  format(): string;
}

/**
 * The compressed formats' decode queue (mp3, ogg and flac decode in WASM, asynchronously): one
 * decode at a time, and the chunks that arrive while the decoder is busy go in together as one.
 * A stream's end flushes the decoder; a new stream resets it, in order with the chunks around it.
 */
export function createDecodeQueue(host: DecodeQueueHost) {
  let queue: QueueEntry[] = [];
  let decoding = false;

  /** One decoder call at a time; the next entry once it settles. */
  const run = (work: () => unknown, onDone: (value: unknown) => void, failure: string) => {
    decoding = true;
    let result: unknown;
    try {
      // Called now, with the decoder of this moment (a format change may replace it later).
      result = work();
    } catch (cause) {
      result = Promise.reject(cause);
    }
    Promise.resolve(result)
      .then(onDone)
      .catch((cause: unknown) => host.fail(failure, cause))
      .finally(() => {
        decoding = false;
        pump();
      });
  };

  const pump = () => {
    if (decoding || host.closed()) return;
    while (queue.length > 0) {
      const head = queue[0]!;
      if (head.kind === 'reset') {
        queue.shift();
        run(
          () => host.decoder().reset(),
          () => {},
          'Could not reset the decoder.',
        );
        return;
      }
      if (head.generation !== host.generation() || host.interrupted()) {
        queue.shift();
        if (head.kind === 'bytes') host.dropped();
        continue;
      }
      if (head.kind === 'end') {
        queue.shift();
        run(
          () => host.decoder().flush(),
          (decoded) => {
            host.deliver(head.generation, decoded as DecodedAudio);
            host.ended(head.generation);
          },
          `Could not decode the end of the ${host.format()} stream.`,
        );
        return;
      }
      const parts: Uint8Array[] = [];
      let length = 0;
      while (queue.length > 0) {
        const next = queue[0]!;
        if (next.kind !== 'bytes' || next.generation !== head.generation) break;
        parts.push(next.bytes);
        length += next.bytes.length;
        queue.shift();
      }
      const bytes = parts.length === 1 ? parts[0]! : joinBytes(parts, length);
      run(
        () => host.decoder().decode(bytes),
        (decoded) => host.deliver(head.generation, decoded as DecodedAudio),
        `Could not decode a ${host.format()} chunk.`,
      );
      return;
    }
  };

  return {
    /** A chunk of `generation`'s stream (copied: the caller may reuse its buffer). */
    push(generation: number, bytes: Uint8Array) {
      queue.push({ kind: 'bytes', generation, bytes: bytes.slice() });
      pump();
    },
    /** The end of `generation`'s stream: the decoder is flushed after its chunks. */
    end(generation: number) {
      queue.push({ kind: 'end', generation });
      pump();
    },
    /** A new stream: what waits is dropped and the decoder is reset before the next chunk. */
    reset() {
      queue = queue.filter((entry) => entry.kind === 'reset');
      queue.push({ kind: 'reset' });
      pump();
    },
    /** An interrupt: the chunks still waiting are dropped (one in the decoder when it comes out); resolves how many. */
    dropWaiting(): number {
      const waiting = queue.filter((entry) => entry.kind === 'bytes').length;
      queue = queue.filter((entry) => entry.kind === 'reset');
      return waiting;
    },
    /** Everything dropped (the format changed, or the player closed). */
    clear() {
      queue = [];
    },
    /** Audio of `generation`'s stream is in the decoder or waiting for it. */
    pending(generation: number): boolean {
      return decoding || queue.some((entry) => entry.kind === 'bytes' && entry.generation === generation);
    },
  };
}
