/**
 * Conversions between Web Audio's float samples and the 16-bit PCM of `linear16`/wav, and
 * little-endian byte views of both (the talk protocol's `linear16` and `raw` float32 are
 * little-endian whatever the host's byte order).
 */

/**
 * Float samples (nominally -1..1) to 16-bit PCM. Values beyond full scale are clipped rather
 * than wrapped (wrapping turns a loud peak into a full-scale click); -1 maps to -32768 and +1 to
 * 32767 so both ends of the range are reachable; NaN becomes 0. Rounds to nearest.
 * Pass `out` (at least `input.length` long) to avoid allocating; a view of its first
 * `input.length` samples is returned.
 */
export function floatToPcm16(input: Float32Array, out?: Int16Array): Int16Array {
  const target = outputFor(out, input.length, 'floatToPcm16', (n) => new Int16Array(n));
  for (let i = 0; i < input.length; i++) {
    const s = input[i]!;
    // `s > 0` / `s < 0` are false for NaN, which therefore lands on 0.
    if (s >= 1) target[i] = 32767;
    else if (s <= -1) target[i] = -32768;
    else if (s > 0) target[i] = Math.round(s * 32767);
    else if (s < 0) target[i] = Math.round(s * 32768);
    else target[i] = 0;
  }
  return target;
}

/** 16-bit PCM to float samples in [-1, 1) (divides by 32768, so -32768 reads exactly -1). */
export function pcm16ToFloat(input: Int16Array, out?: Float32Array): Float32Array {
  const target = outputFor(out, input.length, 'pcm16ToFloat', (n) => new Float32Array(n));
  for (let i = 0; i < input.length; i++) target[i] = input[i]! / 32768;
  return target;
}

/** Whether this host stores typed arrays little-endian (every current browser and Node platform does). */
const IS_LITTLE_ENDIAN = /* @__PURE__ */ (() => new Uint8Array(new Uint16Array([1]).buffer)[0] === 1)();

/** 16-bit samples as little-endian bytes (a fresh buffer, safe to transfer). */
export function pcm16ToBytes(pcm: Int16Array): Uint8Array {
  const bytes = new Uint8Array(pcm.length * 2);
  if (IS_LITTLE_ENDIAN) {
    bytes.set(new Uint8Array(pcm.buffer, pcm.byteOffset, pcm.byteLength));
  } else {
    const view = new DataView(bytes.buffer);
    for (let i = 0; i < pcm.length; i++) view.setInt16(i * 2, pcm[i]!, true);
  }
  return bytes;
}

/**
 * Little-endian bytes to 16-bit samples (a fresh array: `bytes` may sit at an odd offset inside
 * a larger buffer). Throws a RangeError on an odd length, which means the data was truncated or
 * is not 16-bit PCM.
 */
export function bytesToPcm16(bytes: Uint8Array): Int16Array {
  if (bytes.length % 2 !== 0) {
    throw new RangeError(`bytesToPcm16: ${bytes.length} bytes is not a whole number of 16-bit samples`);
  }
  const pcm = new Int16Array(bytes.length / 2);
  if (IS_LITTLE_ENDIAN) {
    new Uint8Array(pcm.buffer).set(bytes);
  } else {
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    for (let i = 0; i < pcm.length; i++) pcm[i] = view.getInt16(i * 2, true);
  }
  return pcm;
}

/** Float samples as little-endian IEEE 754 bytes (the protocol's `raw` output format). */
export function float32ToBytes(samples: Float32Array): Uint8Array {
  const bytes = new Uint8Array(samples.length * 4);
  if (IS_LITTLE_ENDIAN) {
    bytes.set(new Uint8Array(samples.buffer, samples.byteOffset, samples.byteLength));
  } else {
    const view = new DataView(bytes.buffer);
    for (let i = 0; i < samples.length; i++) view.setFloat32(i * 4, samples[i]!, true);
  }
  return bytes;
}

/** Little-endian float32 bytes to samples (a fresh array). Throws a RangeError unless the length is a multiple of 4. */
export function bytesToFloat32(bytes: Uint8Array): Float32Array {
  if (bytes.length % 4 !== 0) {
    throw new RangeError(
      `bytesToFloat32: ${bytes.length} bytes is not a whole number of 4-byte float samples`,
    );
  }
  const samples = new Float32Array(bytes.length / 4);
  if (IS_LITTLE_ENDIAN) {
    new Uint8Array(samples.buffer).set(bytes);
  } else {
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    for (let i = 0; i < samples.length; i++) samples[i] = view.getFloat32(i * 4, true);
  }
  return samples;
}

function outputFor<T extends Int16Array | Float32Array>(
  out: T | undefined,
  length: number,
  name: string,
  create: (length: number) => T,
): T {
  if (out === undefined) return create(length);
  if (out.length < length)
    throw new RangeError(`${name}: output holds ${out.length} samples but ${length} are needed`);
  return (out.length === length ? out : out.subarray(0, length)) as T;
}
