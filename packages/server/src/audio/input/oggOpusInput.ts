import { InputDecodeError } from '../errors.ts';
import { OggPacketReader, OggPageReader } from '../ogg/oggPage.ts';
import type { DecodedInput } from '../types.ts';
import { OPUS_RATE_HZ, OpusPacketDecoder, parseOpusHead } from './opusStream.ts';

/**
 * Ogg Opus from `media-container` input (what Firefox's MediaRecorder sends): pages split into
 * packets by our own Ogg reader, the packets decoded by the opus-decoder WASM package.
 */
export class OggOpusInput {
  readonly sampleRate = OPUS_RATE_HZ;
  #pages = new OggPageReader();
  #packets = new OggPacketReader();
  #headersSeen = 0;
  #opus: OpusPacketDecoder | undefined;

  decode(bytes: Uint8Array): DecodedInput {
    let pages: ReturnType<OggPageReader['push']>;
    try {
      pages = this.#pages.push(bytes);
    } catch (error) {
      this.#pages = new OggPageReader(); // resynchronise on the next chunk that starts a page
      throw new InputDecodeError(`Ogg input: ${(error as Error).message.replace(/^Ogg: /, '')}`);
    }
    const audio: Uint8Array[] = [];
    for (const page of pages) {
      for (const packet of this.#packets.push(page)) {
        if (this.#headersSeen === 0) {
          this.#opus = new OpusPacketDecoder(parseOpusHead(packet.data));
          this.#headersSeen = 1;
        } else if (this.#headersSeen === 1) {
          this.#headersSeen = 2; // OpusTags: nothing we need
        } else audio.push(packet.data);
      }
    }
    const samples = this.#opus ? this.#opus.decode(audio) : new Float32Array(0);
    return { samples, sampleRate: OPUS_RATE_HZ };
  }
}
