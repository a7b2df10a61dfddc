/**
 * Samples as an encoder may take them: finite and within full scale. Audio played back to the
 * user can come from a client's float WAV, which may hold NaN or values far beyond ±1; LAME and
 * libvorbis turn those into noise bursts, and `raw` would hand them to the client's player.
 * Returns `samples` itself when nothing needs changing (the usual case), else a cleaned copy.
 */
export function sanitizeSamples(samples: Float32Array): Float32Array {
  let i = 0;
  while (i < samples.length) {
    const s = samples[i]!;
    if (!(s >= -1 && s <= 1)) break; // also catches NaN
    i++;
  }
  if (i === samples.length) return samples;
  const out = samples.slice();
  for (; i < out.length; i++) {
    const s = out[i]!;
    out[i] = s > 1 ? 1 : s < -1 ? -1 : Number.isNaN(s) ? 0 : s;
  }
  return out;
}
