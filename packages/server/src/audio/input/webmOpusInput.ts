import { InputDecodeError } from '../errors.ts';
import type { DecodedInput } from '../types.ts';
import { OPUS_RATE_HZ, OpusPacketDecoder, parseOpusHead } from './opusStream.ts';

// Matroska/WebM element IDs (with their length markers, as they appear in the stream).
const ID_SEGMENT = 0x18538067;
const ID_CLUSTER = 0x1f43b675;
const ID_TRACKS = 0x1654ae6b;
const ID_TRACK_ENTRY = 0xae;
const ID_TRACK_NUMBER = 0xd7;
const ID_CODEC_ID = 0x86;
const ID_CODEC_PRIVATE = 0x63a2;
const ID_TRACK_TYPE = 0x83;
const ID_BLOCK_GROUP = 0xa0;
const ID_BLOCK = 0xa1;
const ID_SIMPLE_BLOCK = 0xa3;

/**
 * Containers whose children we read. Everything else is skipped by its size. Their own sizes are
 * not tracked: a live recorder writes the Segment and often each Cluster with an unknown size, and
 * the leaves we need (track entries, blocks) are recognised wherever they appear.
 */
const CONTAINERS = new Set([ID_SEGMENT, ID_CLUSTER, ID_TRACKS, ID_TRACK_ENTRY, ID_BLOCK_GROUP]);
/** Leaves we read (and therefore wait for in full). */
const LEAVES = new Set([
  ID_TRACK_NUMBER,
  ID_CODEC_ID,
  ID_CODEC_PRIVATE,
  ID_TRACK_TYPE,
  ID_BLOCK,
  ID_SIMPLE_BLOCK,
]);
/** A block larger than this is not a voice packet; refuse rather than buffer without bound. */
const MAX_LEAF_BYTES = 1 << 20;

interface Track {
  number?: number;
  type?: number;
  codec?: string;
  codecPrivate?: Uint8Array;
}

/**
 * WebM with Opus audio from `media-container` input: what Chrome's MediaRecorder (the API page's
 * example, docs/protocol.md) sends. A small streaming EBML reader finds the audio track and its blocks; the Opus
 * packets go to the opus-decoder WASM package.
 */
export class WebmOpusInput {
  readonly sampleRate = OPUS_RATE_HZ;
  #buffer = new Uint8Array(0);
  #skip = 0;
  #track: Track | undefined;
  #audioTrack: number | undefined;
  #opus: OpusPacketDecoder | undefined;

  decode(bytes: Uint8Array): DecodedInput {
    let data = bytes;
    if (this.#skip > 0) {
      const skipped = Math.min(this.#skip, data.length);
      this.#skip -= skipped;
      data = data.subarray(skipped);
    }
    if (this.#buffer.length > 0) {
      const joined = new Uint8Array(this.#buffer.length + data.length);
      joined.set(this.#buffer);
      joined.set(data, this.#buffer.length);
      data = joined;
    }
    const packets: Uint8Array[] = [];
    let offset = 0;
    while (offset < data.length) {
      const id = readId(data, offset);
      if (!id) break;
      const size = readSize(data, offset + id.length);
      if (!size) break;
      const bodyStart = offset + id.length + size.length;
      if (CONTAINERS.has(id.value)) {
        if (id.value === ID_TRACK_ENTRY) {
          this.#finishTrack();
          this.#track = {};
        }
        offset = bodyStart;
        continue;
      }
      if (size.value === undefined) {
        throw new InputDecodeError(`WebM input: element 0x${id.value.toString(16)} has an unknown size`);
      }
      if (LEAVES.has(id.value)) {
        if (size.value > MAX_LEAF_BYTES)
          throw new InputDecodeError('WebM input: a block is larger than 1 MB');
        if (bodyStart + size.value > data.length) break; // wait for the rest of it
        const body = data.subarray(bodyStart, bodyStart + size.value);
        const packet = this.#leaf(id.value, body);
        if (packet) packets.push(packet);
        offset = bodyStart + size.value;
        continue;
      }
      // Anything else (the EBML header, Info, Cues, Tags, Void, …) is skipped, even across chunks.
      const available = data.length - bodyStart;
      if (size.value > available) {
        this.#skip = size.value - available;
        offset = data.length;
        break;
      }
      offset = bodyStart + size.value;
    }
    this.#buffer = data.slice(offset);
    if (this.#buffer.length > MAX_LEAF_BYTES + 16) {
      this.#buffer = new Uint8Array(0);
      throw new InputDecodeError('WebM input: unreadable data');
    }
    const samples = this.#opus ? this.#opus.decode(packets) : new Float32Array(0);
    return { samples, sampleRate: OPUS_RATE_HZ };
  }

  #leaf(id: number, body: Uint8Array): Uint8Array | undefined {
    switch (id) {
      case ID_TRACK_NUMBER:
        if (this.#track) this.#track.number = readUint(body);
        return undefined;
      case ID_TRACK_TYPE:
        if (this.#track) this.#track.type = readUint(body);
        return undefined;
      case ID_CODEC_ID:
        if (this.#track) this.#track.codec = String.fromCharCode(...body).replace(/\0+$/, '');
        return undefined;
      case ID_CODEC_PRIVATE:
        if (this.#track) this.#track.codecPrivate = body.slice();
        return undefined;
      default: {
        // Block or SimpleBlock: track number (a size-style varint), 16-bit timecode, flags, frame.
        this.#finishTrack();
        const track = readSize(body, 0);
        if (!track || track.value === undefined || track.value !== this.#audioTrack) return undefined;
        const flags = body[track.length + 2]!;
        if (flags & 0x06) throw new InputDecodeError('WebM input: laced blocks are not supported');
        return body.slice(track.length + 3);
      }
    }
  }

  /** Once a track entry is complete, adopt it if it is the (first) audio track. */
  #finishTrack(): void {
    const track = this.#track;
    this.#track = undefined;
    if (!track || this.#audioTrack !== undefined) return;
    if (track.type !== undefined && track.type !== 2) return; // 2 = audio
    if (track.codec === undefined || track.number === undefined) return;
    if (track.codec !== 'A_OPUS') {
      throw new InputDecodeError(
        `WebM input: audio codec ${track.codec} is not supported; only Opus (A_OPUS) is`,
      );
    }
    if (!track.codecPrivate) throw new InputDecodeError('WebM input: the Opus track has no OpusHead');
    this.#opus = new OpusPacketDecoder(parseOpusHead(track.codecPrivate));
    this.#audioTrack = track.number;
  }
}

/** An element ID: 1–4 bytes, its length given by the position of the first set bit, marker kept. */
function readId(data: Uint8Array, offset: number): { value: number; length: number } | undefined {
  if (offset >= data.length) return undefined;
  const first = data[offset]!;
  const length = first >= 0x80 ? 1 : first >= 0x40 ? 2 : first >= 0x20 ? 3 : first >= 0x10 ? 4 : 0;
  if (length === 0) throw new InputDecodeError('WebM input: invalid element ID');
  if (offset + length > data.length) return undefined;
  let value = 0;
  for (let i = 0; i < length; i++) value = value * 256 + data[offset + i]!;
  return { value, length };
}

/** A size varint: 1–8 bytes, marker removed; all ones means "unknown" (undefined). */
function readSize(
  data: Uint8Array,
  offset: number,
): { value: number | undefined; length: number } | undefined {
  if (offset >= data.length) return undefined;
  const first = data[offset]!;
  let length = 1;
  while (length <= 8 && !(first & (0x80 >> (length - 1)))) length++;
  if (length > 8) throw new InputDecodeError('WebM input: invalid element size');
  if (offset + length > data.length) return undefined;
  let value = first & (0xff >> length);
  let allOnes = value === 0xff >> length;
  for (let i = 1; i < length; i++) {
    const byte = data[offset + i]!;
    if (byte !== 0xff) allOnes = false;
    value = value * 256 + byte;
  }
  return { value: allOnes ? undefined : value, length };
}

function readUint(body: Uint8Array): number {
  let value = 0;
  for (const byte of body) value = value * 256 + byte;
  return value;
}
