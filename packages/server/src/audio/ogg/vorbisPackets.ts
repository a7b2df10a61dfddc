/**
 * Just enough of the Vorbis I bitstream to know how many samples each audio packet adds, so that
 * packets can be moved to new Ogg pages with correct granule positions. A packet decodes to
 * (previous block size + this block size) / 4 samples, the first audio packet to none; the block
 * size comes from the packet's mode, whose block flag is listed at the end of the setup header.
 */

interface VorbisStreamInfo {
  sampleRate: number;
  channels: number;
  /** Short and long block sizes. */
  blockSizes: [number, number];
  /** Block flag (0 short, 1 long) of each mode, in mode order. */
  modeBlockFlags: number[];
}

function isVorbisHeader(packet: Uint8Array, type: number): boolean {
  const magic = 'vorbis';
  if (packet.length < 7 || packet[0] !== type) return false;
  for (let i = 0; i < magic.length; i++) if (packet[1 + i] !== magic.charCodeAt(i)) return false;
  return true;
}

/** Reads the identification header (packet type 1). */
export function parseVorbisIdentification(packet: Uint8Array): Omit<VorbisStreamInfo, 'modeBlockFlags'> {
  if (!isVorbisHeader(packet, 1) || packet.length < 30)
    throw new Error('Vorbis: not an identification header');
  const view = new DataView(packet.buffer, packet.byteOffset, packet.byteLength);
  const channels = packet[11]!;
  const sampleRate = view.getUint32(12, true);
  const sizes = packet[28]!;
  return { channels, sampleRate, blockSizes: [1 << (sizes & 0x0f), 1 << (sizes >> 4)] };
}

/**
 * Mode block flags from the setup header (packet type 5). The modes are the last thing in the
 * packet, just before the framing bit, and everything before them (codebooks, floors, residues)
 * would need a full parse, so they are read backwards from the end instead: each mode is 41 bits
 * (block flag, window type 0 and transform type 0 as 16 bits each, mapping number), preceded by
 * the 6-bit mode count. The count that matches the number of well-formed modes found is the one
 * (the same approach as FFmpeg's vorbis_parser).
 */
export function parseVorbisModeBlockFlags(packet: Uint8Array): number[] {
  if (!isVorbisHeader(packet, 5)) throw new Error('Vorbis: not a setup header');
  // Vorbis packs bits from the least significant end of each byte; reading bytes last-to-first
  // and bits most-significant-first walks the bitstream backwards and yields each field's value.
  const totalBits = packet.length * 8;
  let position = 0; // bits consumed, counting from the end of the packet
  const bitAt = (fromEnd: number): number => {
    const byte = packet[packet.length - 1 - (fromEnd >> 3)]!;
    return (byte >> (7 - (fromEnd & 7))) & 1;
  };
  const read = (count: number, from: number): number => {
    let value = 0;
    for (let i = 0; i < count; i++) value = (value << 1) | bitAt(from + i);
    return value >>> 0;
  };
  // Skip the zero padding after the framing bit, then the framing bit itself.
  while (position < totalBits && bitAt(position) === 0) position++;
  position++;
  const modesEnd = position;
  let modeCount = 0;
  let matchedCount = 0;
  let cursor = modesEnd;
  // 7 * 8 bits of "\x05vorbis" precede everything, so stop well before them.
  while (totalBits - cursor >= 41 + 6 + 56 && modeCount < 64) {
    const mapping = read(8, cursor);
    const transform = read(16, cursor + 8);
    const window = read(16, cursor + 24);
    if (mapping > 63 || transform !== 0 || window !== 0) break;
    cursor += 41;
    modeCount++;
    if (read(6, cursor) + 1 === modeCount) matchedCount = modeCount;
  }
  if (matchedCount === 0) throw new Error('Vorbis: could not find the modes in the setup header');
  const flags: number[] = new Array(matchedCount);
  for (let i = 0; i < matchedCount; i++) {
    // Mode matchedCount-1 is nearest the end; its block flag is the 41st bit read backwards.
    flags[matchedCount - 1 - i] = bitAt(modesEnd + i * 41 + 40);
  }
  return flags;
}

/** Counts the samples each audio packet of one stream decodes to. */
export class VorbisSampleCounter {
  #info: VorbisStreamInfo;
  #modeBits: number;
  #previousBlockSize = 0;

  constructor(info: VorbisStreamInfo) {
    this.#info = info;
    this.#modeBits = 32 - Math.clz32(Math.max(0, info.modeBlockFlags.length - 1));
  }

  /** Samples that `packet` (an audio packet, in stream order) completes. */
  samplesOf(packet: Uint8Array): number {
    if (packet.length === 0) return 0; // an empty packet is legal and decodes to nothing
    const first = packet[0]!;
    if (first & 1) throw new Error('Vorbis: header packet where audio was expected');
    // Mode number: the bits after the packet-type bit, least significant first.
    let mode = 0;
    for (let i = 0; i < this.#modeBits; i++) {
      const bit = i + 1;
      mode |= ((packet[bit >> 3]! >> (bit & 7)) & 1) << i;
    }
    const flag = this.#info.modeBlockFlags[mode];
    if (flag === undefined) throw new Error(`Vorbis: packet uses undefined mode ${mode}`);
    const blockSize = this.#info.blockSizes[flag]!;
    const samples = this.#previousBlockSize === 0 ? 0 : (this.#previousBlockSize + blockSize) / 4;
    this.#previousBlockSize = blockSize;
    return samples;
  }
}
