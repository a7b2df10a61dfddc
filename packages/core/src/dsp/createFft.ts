/**
 * An in-place radix-2 complex FFT of a fixed power-of-two size, for an audio thread: the twiddle
 * factors and the bit-reversal table are computed once, `transform` allocates nothing.
 */
export interface Fft {
  readonly size: number;
  /** Forward transform of `re` + i·`im` (each `size` long), in place. */
  transform(re: Float32Array, im: Float32Array): void;
}

export function createFft(size: number): Fft {
  if (!Number.isInteger(size) || size < 2 || (size & (size - 1)) !== 0) {
    throw new RangeError(`FFT size must be a power of two >= 2, got ${size}`);
  }
  const cos = new Float32Array(size / 2);
  const sin = new Float32Array(size / 2);
  for (let k = 0; k < size / 2; k++) {
    cos[k] = Math.cos((2 * Math.PI * k) / size);
    sin[k] = -Math.sin((2 * Math.PI * k) / size);
  }
  const reversed = new Uint32Array(size);
  const bits = Math.log2(size);
  for (let i = 0; i < size; i++) {
    let r = 0;
    for (let b = 0; b < bits; b++) r |= ((i >> b) & 1) << (bits - 1 - b);
    reversed[i] = r;
  }
  return {
    size,
    transform(re, im) {
      for (let i = 0; i < size; i++) {
        const j = reversed[i]!;
        if (i < j) {
          const tr = re[i]!;
          re[i] = re[j]!;
          re[j] = tr;
          const ti = im[i]!;
          im[i] = im[j]!;
          im[j] = ti;
        }
      }
      for (let length = 2; length <= size; length <<= 1) {
        const half = length >> 1;
        const step = size / length;
        for (let start = 0; start < size; start += length) {
          for (let k = 0; k < half; k++) {
            const wr = cos[k * step]!;
            const wi = sin[k * step]!;
            const a = start + k;
            const b = a + half;
            const xr = re[b]! * wr - im[b]! * wi;
            const xi = re[b]! * wi + im[b]! * wr;
            re[b] = re[a]! - xr;
            im[b] = im[a]! - xi;
            re[a] = re[a]! + xr;
            im[a] = im[a]! + xi;
          }
        }
      }
    },
  };
}
