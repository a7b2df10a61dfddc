/**
 * Ogg pages (RFC 3533): parsing a byte stream into pages and writing pages back, with the
 * checksum the format requires. Used to re-paginate the Vorbis encoder's output into small pages.
 */

import { concatBytes } from '../concatBytes.ts';

/** Header type flags of a page (0x01, "continued packet", is implied by the lacing values). */
export const OGG_BOS = 0x02;
export const OGG_EOS = 0x04;

const CAPTURE_PATTERN = [0x4f, 0x67, 0x67, 0x53]; // "OggS"
const HEADER_BYTES = 27;
/** A page holds at most 255 lacing values, each covering up to 255 bytes of packet data. */
export const MAX_LACING_VALUES = 255;

interface OggPage {
  flags: number;
  /** Sample position at the end of the last packet that completes on this page; -1 if none does. */
  granulePosition: bigint;
  serialNumber: number;
  sequenceNumber: number;
  /** The lacing values (segment table). */
  segments: Uint8Array;
  body: Uint8Array;
}

/** CRC-32 of Ogg: polynomial 0x04C11DB7, not reflected, initial value 0, no final XOR. */
const CRC_TABLE = /* @__PURE__ */ (() => {
  const table = new Uint32Array(256);
  for (let i = 0; i < 256; i++) {
    let r = i << 24;
    for (let bit = 0; bit < 8; bit++) r = r & 0x8000_0000 ? (r << 1) ^ 0x04c1_1db7 : r << 1;
    table[i] = r >>> 0;
  }
  return table;
})();

function oggCrc32(bytes: Uint8Array): number {
  let crc = 0;
  for (let i = 0; i < bytes.length; i++)
    crc = ((crc << 8) ^ CRC_TABLE[((crc >>> 24) ^ bytes[i]!) & 0xff]!) >>> 0;
  return crc;
}

/** Serialise a page, computing its checksum. */
export function writeOggPage(page: OggPage): Uint8Array {
  const bytes = new Uint8Array(HEADER_BYTES + page.segments.length + page.body.length);
  const view = new DataView(bytes.buffer);
  bytes.set(CAPTURE_PATTERN, 0);
  bytes[4] = 0; // stream structure version
  bytes[5] = page.flags;
  view.setBigInt64(6, page.granulePosition, true);
  view.setUint32(14, page.serialNumber >>> 0, true);
  view.setUint32(18, page.sequenceNumber >>> 0, true);
  // Bytes 22..25 (checksum) stay zero while the checksum is computed.
  bytes[26] = page.segments.length;
  bytes.set(page.segments, HEADER_BYTES);
  bytes.set(page.body, HEADER_BYTES + page.segments.length);
  view.setUint32(22, oggCrc32(bytes), true);
  return bytes;
}

/**
 * Splits a byte stream that arrives in arbitrary pieces into whole pages. Bytes of an incomplete
 * page are kept for the next `push`. Throws on data that is not Ogg or fails its checksum: the
 * only producer here is our own encoder, so that is a bug, not bad input.
 */
export class OggPageReader {
  #pending = new Uint8Array(0);

  push(chunk: Uint8Array): OggPage[] {
    let data: Uint8Array;
    if (this.#pending.length === 0) data = chunk;
    else {
      data = new Uint8Array(this.#pending.length + chunk.length);
      data.set(this.#pending);
      data.set(chunk, this.#pending.length);
    }
    const pages: OggPage[] = [];
    let offset = 0;
    while (data.length - offset >= HEADER_BYTES) {
      for (let i = 0; i < 4; i++) {
        if (data[offset + i] !== CAPTURE_PATTERN[i])
          throw new Error(`Ogg: no capture pattern at byte ${offset}`);
      }
      const segmentCount = data[offset + 26]!;
      const headerEnd = offset + HEADER_BYTES + segmentCount;
      if (headerEnd > data.length) break;
      const segments = data.slice(offset + HEADER_BYTES, headerEnd);
      let bodyLength = 0;
      for (const lacing of segments) bodyLength += lacing;
      const end = headerEnd + bodyLength;
      if (end > data.length) break;
      const raw = data.slice(offset, end);
      const view = new DataView(raw.buffer);
      const storedCrc = view.getUint32(22, true);
      view.setUint32(22, 0, true);
      if (oggCrc32(raw) !== storedCrc) throw new Error(`Ogg: bad page checksum at byte ${offset}`);
      pages.push({
        flags: raw[5]!,
        granulePosition: view.getBigInt64(6, true),
        serialNumber: view.getUint32(14, true),
        sequenceNumber: view.getUint32(18, true),
        segments,
        body: raw.subarray(HEADER_BYTES + segmentCount),
      });
      offset = end;
    }
    this.#pending = data.slice(offset);
    return pages;
  }

  /** Bytes received that do not yet make a whole page. */
  get pendingBytes(): number {
    return this.#pending.length;
  }
}

/** A packet reassembled from pages, with what the page it ended on says about it. */
interface OggPacket {
  data: Uint8Array;
  /** Granule position of the page this packet ended on, when it is that page's last packet; else undefined. */
  pageGranule: bigint | undefined;
  /** Whether this is the last packet of an end-of-stream page. */
  endOfStream: boolean;
}

/** Reassembles packets (which may span pages) from a sequence of pages of one logical stream. */
export class OggPacketReader {
  #parts: Uint8Array[] = [];

  push(page: OggPage): OggPacket[] {
    const packets: OggPacket[] = [];
    let bodyOffset = 0;
    let lastComplete = -1;
    for (let i = 0; i < page.segments.length; i++) if (page.segments[i]! < 255) lastComplete = i;
    for (let i = 0; i < page.segments.length; i++) {
      const lacing = page.segments[i]!;
      this.#parts.push(page.body.subarray(bodyOffset, bodyOffset + lacing));
      bodyOffset += lacing;
      if (lacing < 255) {
        const isLast = i === lastComplete;
        packets.push({
          data: concatBytes(this.#parts),
          pageGranule: isLast ? page.granulePosition : undefined,
          endOfStream: isLast && (page.flags & OGG_EOS) !== 0,
        });
        this.#parts = [];
      }
    }
    return packets;
  }
}

/** The lacing values that describe one packet of `length` bytes. */
export function lacingValues(length: number): number[] {
  const values: number[] = [];
  let remaining = length;
  while (remaining >= 255) {
    values.push(255);
    remaining -= 255;
  }
  values.push(remaining); // a final value below 255 (possibly 0) ends the packet
  return values;
}
