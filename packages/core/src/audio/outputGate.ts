/**
 * The player's output gate: a GainNode after the player worklet that silences an interrupted
 * stream from the main thread, through the context's own clock.
 *
 * Why: `interrupt()` also tells the worklet to fade out and drop its queue, but a port message
 * reaches the audio thread only when the browser gets to it (1–3 ms in Chromium and Firefox,
 * 10–13 ms in WebKit). An AudioParam automation is timestamped on the context clock instead, so
 * the ramp below starts with the next rendered block whichever thread delivers what when: the
 * agent's voice is below −60 dBFS at most {@link GATE_FADE_MS} ms (plus the block in flight)
 * after the call, in every engine. The worklet's flush then makes the silence lasting. A new
 * stream opens the gate again as soon as the worklet has confirmed the flush (its `silenced`
 * report), or {@link GATE_REOPEN_MS} after the interrupt on the audio clock, whichever comes
 * first: the report can take hundreds of milliseconds to reach the main thread in WebKit, while
 * the flush itself is done by then, and a new stream waits for its jitter buffer before it plays.
 */

/** Linear ramp to zero: −60 dBFS within 10 ms of the call even with a block already in flight, and long enough not to click. */
export const GATE_FADE_MS = 4;
/** Longer than the port's delay to the worklet (≤ 13 ms measured in WebKit) plus the worklet's own fade. */
export const GATE_REOPEN_MS = 40;

export interface OutputGate {
  /** Connect this to the destination. */
  readonly node: GainNode;
  /** Ramp to silence now; returns the context time the call was made at. */
  close(): number;
  /** The worklet confirmed an interrupt made at `atTime` (context seconds) or later is flushed. */
  flushed(atTime: number): void;
  /** A new stream begins: open as soon as the flush is confirmed (at once if it already is). */
  open(): void;
  disconnect(): void;
}

export function createOutputGate(context: BaseAudioContext): OutputGate {
  const node = context.createGain();
  const gain = node.gain;
  let closedAt: number | null = null;
  let flushConfirmed = true;
  let wantOpen = true;

  const openAt = (at: number) => {
    gain.cancelScheduledValues(at);
    gain.setValueAtTime(at > context.currentTime ? 0 : gain.value, at);
    gain.linearRampToValueAtTime(1, at + GATE_FADE_MS / 1000);
  };
  const openNow = () => {
    openAt(context.currentTime);
    closedAt = null;
  };

  return {
    node,
    close() {
      const now = context.currentTime;
      wantOpen = false;
      if (closedAt === null) {
        closedAt = now;
        gain.cancelScheduledValues(now);
        // From the value now (it may still be opening) to zero: never a jump, never a click.
        gain.setValueAtTime(gain.value, now);
        gain.linearRampToValueAtTime(0, now + GATE_FADE_MS / 1000);
      }
      flushConfirmed = false;
      return now;
    },
    flushed(atTime) {
      if (closedAt === null || atTime + 1e-9 < closedAt) return;
      flushConfirmed = true;
      if (wantOpen) openNow();
    },
    open() {
      wantOpen = true;
      if (closedAt === null) return;
      if (flushConfirmed) openNow();
      // Not confirmed yet: open on the audio clock once the flush has surely happened (the
      // confirmation, if it comes first, opens it sooner).
      else openAt(Math.max(context.currentTime, closedAt + GATE_REOPEN_MS / 1000));
    },
    disconnect() {
      try {
        node.disconnect();
      } catch {
        // Already disconnected.
      }
    },
  };
}
