import { createEncoder, type WasmMediaEncoder } from 'wasm-media-encoders';
import { concatBytes } from '../concatBytes.ts';
import {
  lacingValues,
  MAX_LACING_VALUES,
  OGG_BOS,
  OGG_EOS,
  OggPacketReader,
  OggPageReader,
  writeOggPage,
} from '../ogg/oggPage.ts';
import {
  parseVorbisIdentification,
  parseVorbisModeBlockFlags,
  VorbisSampleCounter,
} from '../ogg/vorbisPackets.ts';
import type { OutputEncoder } from '../types.ts';
import { sanitizeSamples } from './sanitize.ts';
import { wasmEncoderModule } from './wasmModules.ts';

/** Longest stretch of audio one output page may carry: a streaming decoder can start after one page. */
const OGG_MAX_PAGE_MS = 100;

/**
 * libvorbis VBR quality. Measured on mespeak speech (mono): 77–79 kbps at 44.1/48 kHz (the
 * protocol's default rate), 61 kbps at 24 kHz, 44 at 16 kHz, 24 at 8 kHz: about the 80 kbps the
 * local agent aims for where the bandwidth is there, and less where there is less to code.
 */
const VORBIS_QUALITY = 5;

type Vorbis = WasmMediaEncoder<'audio/ogg'>;
const idleVorbis: Vorbis[] = [];
/** Each libvorbis instance holds 16 MB of WASM memory: keep only a few. */
const MAX_IDLE_VORBIS = 4;

/**
 * Ogg Vorbis through libvorbis (wasm-media-encoders), re-paginated. libogg fills pages up to
 * ~4 KB, which at speech bit rates is 0.4–3 s of audio per page: a streaming decoder would wait
 * that long for its first sample. So the encoder's pages are taken apart into packets and packed
 * again into pages of at most `OGG_MAX_PAGE_MS` each, with granule positions recomputed from the
 * Vorbis block sizes, fresh sequence numbers and checksums. The three header packets each get a
 * page of their own (Vorbis I §A.2: the identification header alone on the first page, the first
 * audio packet on a fresh page).
 *
 * Packets still come out of libvorbis only when libogg completes one of its own pages, so the
 * bytes of a stream fed in real time arrive in bursts; encode an utterance ahead of pacing it.
 */
export async function createOggEncoder(sampleRate: number): Promise<OutputEncoder> {
  const vorbis = idleVorbis.pop() ?? (await createEncoder('audio/ogg', await wasmEncoderModule('ogg')));
  vorbis.configure({ channels: 1, sampleRate, vbrQuality: VORBIS_QUALITY });
  const paginator = new OggRepaginator(Math.max(1, Math.floor((sampleRate * OGG_MAX_PAGE_MS) / 1000)));
  let finished = false;
  return {
    format: 'ogg',
    sampleRate,
    streamSampleRate: sampleRate,
    encode(samples) {
      if (finished) throw new Error('ogg encoder: encode() after finish()');
      if (samples.length === 0) return new Uint8Array(0);
      // The returned view points into the WASM heap and is overwritten by the next call.
      return paginator.push(vorbis.encode([sanitizeSamples(samples)]).slice());
    },
    finish() {
      if (finished) throw new Error('ogg encoder: finish() called twice');
      finished = true;
      const out = paginator.push(vorbis.finalize().slice());
      if (idleVorbis.length < MAX_IDLE_VORBIS) idleVorbis.push(vorbis);
      return out;
    },
  };
}

/** Takes an Ogg Vorbis stream apart into packets and writes it again with short pages. */
class OggRepaginator {
  #pages = new OggPageReader();
  #packets = new OggPacketReader();
  #maxPageSamples: number;
  #serialNumber = 0;
  #sequence = 0;
  #headers: Uint8Array[] = [];
  #counter: VorbisSampleCounter | undefined;
  /** Samples completed by the packets read so far. */
  #granule = 0n;
  /** Granule position of the last audio page written: where the next page's audio starts. */
  #lastPageGranule = 0n;
  #ended = false;

  constructor(maxPageSamples: number) {
    this.#maxPageSamples = maxPageSamples;
  }

  push(bytes: Uint8Array): Uint8Array {
    if (bytes.length === 0) return bytes;
    const out: Uint8Array[] = [];
    let audio: { data: Uint8Array; granule: bigint; endOfStream: boolean }[] = [];
    for (const page of this.#pages.push(bytes)) {
      if (this.#ended) throw new Error('Ogg: data after the end of the stream');
      this.#serialNumber = page.serialNumber;
      for (const packet of this.#packets.push(page)) {
        if (!this.#counter) {
          this.#header(packet.data, out);
          continue;
        }
        this.#granule += BigInt(this.#counter.samplesOf(packet.data));
        // The last page's granule may be smaller than the block arithmetic says: that is how
        // Vorbis marks the padding at the end of the stream as not to be played. Keep it.
        const granule =
          packet.endOfStream && packet.pageGranule !== undefined ? packet.pageGranule : this.#granule;
        audio.push({ data: packet.data, granule, endOfStream: packet.endOfStream });
        if (packet.endOfStream) this.#ended = true;
      }
    }
    // Greedy packing: a page ends before the packet that would take it past the duration limit.
    while (audio.length > 0) {
      const start = this.#lastPageGranule;
      let count = 0;
      let lacing = 0;
      while (count < audio.length) {
        const packet = audio[count]!;
        const packetLacing = Math.floor(packet.data.length / 255) + 1;
        const tooLong = count > 0 && packet.granule - start > BigInt(this.#maxPageSamples);
        if (count > 0 && (tooLong || lacing + packetLacing > MAX_LACING_VALUES)) break;
        lacing += packetLacing;
        count++;
        if (packet.endOfStream) break;
      }
      const group = audio.slice(0, count);
      audio = audio.slice(count);
      const last = group[group.length - 1]!;
      out.push(
        this.#page(
          group.map((p) => p.data),
          last.granule,
          last.endOfStream ? OGG_EOS : 0,
        ),
      );
      this.#lastPageGranule = last.granule;
    }
    return out.length === 0 ? new Uint8Array(0) : concatBytes(out);
  }

  #header(packet: Uint8Array, out: Uint8Array[]): void {
    this.#headers.push(packet);
    out.push(this.#page([packet], 0n, this.#headers.length === 1 ? OGG_BOS : 0));
    if (this.#headers.length === 3) {
      const identification = parseVorbisIdentification(this.#headers[0]!);
      const modeBlockFlags = parseVorbisModeBlockFlags(this.#headers[2]!);
      this.#counter = new VorbisSampleCounter({ ...identification, modeBlockFlags });
    }
  }

  #page(packets: Uint8Array[], granulePosition: bigint, flags: number): Uint8Array {
    const segments: number[] = [];
    for (const packet of packets) segments.push(...lacingValues(packet.length));
    return writeOggPage({
      flags,
      granulePosition,
      serialNumber: this.#serialNumber,
      sequenceNumber: this.#sequence++,
      segments: Uint8Array.from(segments),
      body: concatBytes(packets),
    });
  }
}
