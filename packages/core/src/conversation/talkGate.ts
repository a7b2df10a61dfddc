import type { CaptureEncoding } from '../providers/types.ts';

/**
 * How the user takes turns: `vad` (the default) streams the microphone all the time and the
 * server's voice activity detection decides when the user speaks; `pushToTalk` streams it only
 * while the user holds the talk control (`pressToTalk()` … `releaseToTalk()`).
 */
export type TurnTaking = 'vad' | 'pushToTalk';

/**
 * After a release, this much digital silence is sent (at the frame cadence) and then nothing:
 * the server's VAD needs a run of silence to close the user's turn (the local agent's default is
 * 600 ms), and a microphone cut off in mid-word would leave it waiting for more.
 */
export const DEFAULT_RELEASE_TAIL_MS = 1_000;

const MULAW_ZERO = 0xff;

/**
 * The gate between the capture and the socket. In `vad` every frame passes, except one the echo
 * guard judged to be only the agent's echo, which goes out as digital silence of the same size.
 * In `pushToTalk` a frame passes while the talk control is held (the user's word: the echo
 * guard does not apply); after the release the next `tailMs` of frames go out as digital
 * silence of the same size (the wire keeps its real-time clock while the server closes the
 * turn); after that nothing is sent until the next press.
 */
export interface TalkGate {
  readonly turnTaking: TurnTaking;
  /** The talk control is held (always false in `vad`). */
  readonly held: boolean;
  /** The frames' encoding and length, and the release tail (0: none), for the call starting. */
  configure(format: { encoding: CaptureEncoding; frameMs: number; tailMs?: number }): void;
  /** Switch at any time, mid-call: to `pushToTalk` while not held starts a release tail. */
  setTurnTaking(turnTaking: TurnTaking): void;
  /** True when it changed something (not held before, push-to-talk). */
  press(): boolean;
  release(): boolean;
  /** Not held, no tail pending: a new call starts quiet. */
  reset(): void;
  /**
   * What to send for a captured frame: the frame, the same length of silence, or null (nothing).
   * `echo`: the echo guard holds it back (in `vad` only). `muted`: the user muted the microphone,
   * so nothing of the room may go out; the frame becomes silence (then gated as any other).
   */
  pass(frame: Uint8Array, echo?: boolean, muted?: boolean): Uint8Array | null;
}

export function createTalkGate(options: {
  turnTaking: TurnTaking;
  encoding?: CaptureEncoding;
  frameMs?: number;
  tailMs?: number;
}): TalkGate {
  const defaultTailMs = options.tailMs ?? DEFAULT_RELEASE_TAIL_MS;
  const framesOf = (tailMs: number, frameMs: number) =>
    tailMs > 0 ? Math.max(1, Math.ceil(tailMs / frameMs)) : 0;
  let tailFrames = framesOf(defaultTailMs, options.frameMs ?? 20);
  // μ-law's zero is 0xFF (G.711: the bits of +0 inverted); linear16's is 0x0000.
  let silenceByte = options.encoding === 'mulaw' ? MULAW_ZERO : 0;
  let turnTaking = options.turnTaking;
  let held = false;
  let tailLeft = 0;
  let silence = new Uint8Array(0);

  const silent = (length: number): Uint8Array => {
    if (silence.length !== length) silence = new Uint8Array(length).fill(silenceByte);
    return silence;
  };

  return {
    configure(format) {
      tailFrames = framesOf(format.tailMs ?? defaultTailMs, format.frameMs);
      const byte = format.encoding === 'mulaw' ? MULAW_ZERO : 0;
      if (byte !== silenceByte) silence = new Uint8Array(0);
      silenceByte = byte;
    },
    get turnTaking() {
      return turnTaking;
    },
    get held() {
      return held;
    },
    setTurnTaking(next) {
      if (next === turnTaking) return;
      turnTaking = next;
      held = false;
      // Leaving VAD mid-sentence: close whatever turn the server may have open.
      tailLeft = next === 'pushToTalk' ? tailFrames : 0;
    },
    press() {
      if (turnTaking !== 'pushToTalk' || held) return false;
      held = true;
      tailLeft = 0;
      return true;
    },
    release() {
      if (turnTaking !== 'pushToTalk' || !held) return false;
      held = false;
      tailLeft = tailFrames;
      return true;
    },
    reset() {
      held = false;
      tailLeft = 0;
    },
    pass(frame, echo = false, muted = false) {
      if (turnTaking === 'vad') return echo || muted ? silent(frame.length) : frame;
      if (held) return muted ? silent(frame.length) : frame;
      if (tailLeft > 0) {
        tailLeft -= 1;
        return silent(frame.length);
      }
      return null;
    },
  };
}
