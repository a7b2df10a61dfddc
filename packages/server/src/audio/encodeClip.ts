import { concatBytes } from './concatBytes.ts';
import { createOutputEncoder } from './createOutputEncoder.ts';
import { flacBlockSize } from './encoders/flacEncoder.ts';
import { WAV_HEADER_BYTES } from './encoders/pcmEncoders.ts';
import { OggPageReader } from './ogg/oggPage.ts';
import type { AgentAudioFormat } from './types.ts';

/** A piece of an encoded stream and how much audio it carries, for pacing it out at real time. */
export interface TimedChunk {
  bytes: Uint8Array;
  /** Duration of the audio this chunk completes, in ms (0 for a chunk of headers only). */
  ms: number;
}

/**
 * Encode a whole clip (an utterance known up front: synthesised speech, a recording to play back)
 * and cut the stream into chunks of at least `chunkMs` of audio each, at the codec's own frame or
 * page boundaries, each labelled with the audio it carries. The chunks concatenate to exactly the
 * stream `createOutputEncoder` makes; the headers ride with the first chunk.
 *
 * This is the way to pace a compressed stream: the encoders' output does not follow their input
 * in time (LAME holds ~2 frames back, libogg whole pages), so labelling bytes by when they came out
 * would send Ogg in bursts seconds apart. Here a chunk's `ms` is the audio inside it, whatever the
 * codec: send chunk n once the chunks before it have had time to play.
 */
export async function encodeClip(
  format: AgentAudioFormat,
  sampleRate: number,
  samples: Float32Array,
  chunkMs: number,
): Promise<TimedChunk[]> {
  if (!(chunkMs > 0)) throw new RangeError(`encodeClip: chunkMs must be positive, got ${chunkMs}`);
  const encoder = await createOutputEncoder(format, sampleRate);
  const rate = encoder.streamSampleRate;
  const units: Unit[] = [];
  if (format === 'flac') {
    // One encode() per block returns exactly one frame (the first also carries the header).
    const block = flacBlockSize(sampleRate);
    for (let offset = 0; offset < samples.length; offset += block) {
      const piece = samples.subarray(offset, offset + block);
      const bytes = encoder.encode(piece);
      if (bytes.length > 0) units.push({ bytes, samples: piece.length === block ? block : 0 });
    }
    const tail = encoder.finish();
    const lastFull = Math.floor(samples.length / block) * block;
    if (tail.length > 0) units.push({ bytes: tail, samples: samples.length - lastFull });
  } else {
    const stream = concatBytes([encoder.encode(samples), encoder.finish()]);
    units.push(...splitStream(format, stream));
  }
  return group(units, Math.max(1, Math.round((chunkMs / 1000) * rate)), rate);
}

/** A codec unit: an mp3 frame, an Ogg page, a FLAC frame, a run of PCM; headers have 0 samples. */
interface Unit {
  bytes: Uint8Array;
  samples: number;
}

function splitStream(format: AgentAudioFormat, stream: Uint8Array): Unit[] {
  switch (format) {
    case 'mp3':
      return mp3Frames(stream);
    case 'ogg':
      return oggPages(stream);
    case 'wav':
      return [
        { bytes: stream.subarray(0, WAV_HEADER_BYTES), samples: 0 },
        ...pcmRuns(stream.subarray(WAV_HEADER_BYTES), 2),
      ];
    case 'raw':
      return pcmRuns(stream, 4);
    case 'mulaw':
    case 'alaw':
      return pcmRuns(stream, 1);
    case 'pcm16':
      return pcmRuns(stream, 2);
    default:
      throw new Error(`encodeClip: cannot split ${format}`);
  }
}

/** PCM split into single samples' worth of bytes is wasteful; runs of 10 ms are fine-grained enough. */
function pcmRuns(bytes: Uint8Array, bytesPerSample: number): Unit[] {
  const units: Unit[] = [];
  const total = bytes.length / bytesPerSample;
  const run = 80; // samples: 10 ms at 8 kHz, finer above
  for (let start = 0; start < total; start += run) {
    const count = Math.min(run, total - start);
    units.push({
      bytes: bytes.subarray(start * bytesPerSample, (start + count) * bytesPerSample),
      samples: count,
    });
  }
  return units;
}

const MPEG1_BITRATES = [0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320];
const MPEG2_BITRATES = [0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160];
const MPEG1_RATES = [44100, 48000, 32000];

/** Layer III frames, by their headers (the encoder writes nothing else: no ID3, no Xing frame). */
function mp3Frames(stream: Uint8Array): Unit[] {
  const units: Unit[] = [];
  let offset = 0;
  while (offset + 4 <= stream.length) {
    const b1 = stream[offset + 1]!;
    const b2 = stream[offset + 2]!;
    if (stream[offset] !== 0xff || (b1 & 0xe0) !== 0xe0)
      throw new Error(`mp3: no frame sync at byte ${offset}`);
    const version = (b1 >> 3) & 0x03; // 3: MPEG-1, 2: MPEG-2, 0: MPEG-2.5
    const mpeg1 = version === 3;
    const bitrate = (mpeg1 ? MPEG1_BITRATES : MPEG2_BITRATES)[b2 >> 4]! * 1000;
    const rateIndex = (b2 >> 2) & 0x03;
    const rate = MPEG1_RATES[rateIndex]! / (mpeg1 ? 1 : version === 2 ? 2 : 4);
    const padding = (b2 >> 1) & 0x01;
    const length = Math.floor(((mpeg1 ? 144 : 72) * bitrate) / rate) + padding;
    if (length <= 4) throw new Error(`mp3: bad frame header at byte ${offset}`);
    units.push({ bytes: stream.subarray(offset, offset + length), samples: mpeg1 ? 1152 : 576 });
    offset += length;
  }
  return units;
}

function oggPages(stream: Uint8Array): Unit[] {
  const units: Unit[] = [];
  let offset = 0;
  let previousGranule = 0n;
  for (const page of new OggPageReader().push(stream)) {
    const length = 27 + page.segments.length + page.body.length;
    const ends = page.granulePosition >= 0n;
    const samples = ends ? Number(page.granulePosition - previousGranule) : 0;
    if (ends) previousGranule = page.granulePosition;
    units.push({ bytes: stream.subarray(offset, offset + length), samples });
    offset += length;
  }
  return units;
}

/** Units grouped into chunks of at least `chunkSamples` (the last may be shorter). */
function group(units: Unit[], chunkSamples: number, rate: number): { bytes: Uint8Array; ms: number }[] {
  const chunks: TimedChunk[] = [];
  let parts: Uint8Array[] = [];
  let samples = 0;
  const flush = () => {
    chunks.push({ bytes: concatBytes(parts), ms: (samples / rate) * 1000 });
    parts = [];
    samples = 0;
  };
  for (const unit of units) {
    parts.push(unit.bytes);
    samples += unit.samples;
    if (samples >= chunkSamples) flush();
  }
  if (parts.length > 0) flush();
  return chunks;
}
