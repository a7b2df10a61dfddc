import type { BrowserContext, Page } from 'playwright';

/**
 * An independent tap on what the page sends to its speakers, for the end-to-end audio checks:
 * they must not trust the library's own level meter (a meter that reads 0 while audio plays, or
 * a player that keeps playing after it says it stopped, would pass them).
 *
 * An init script, run before any of the page's code, wraps `AudioNode.prototype.connect`: every
 * node connected to an `AudioDestinationNode` is also connected to one `AnalyserNode` per
 * context (and `disconnect` mirrors it). The analyser hears exactly the sum the destination
 * plays. The page samples it every 50 ms into a log of 10 ms blocks (RMS, stamped with the
 * context time at the block's end); the analyser keeps the last 0.68 s, so the log has no hole
 * unless the page's timers stall for longer, which the tap counts (`uncoveredSeconds`).
 */
export interface OutputTap {
  /** Context time now (seconds), the clock of the block log. */
  now(): number;
  /** RMS of the most recent 20 ms of output (the louder of its two 10 ms blocks). */
  level(): number;
  /** The loudest 10 ms block (RMS) whose end lies in [from, to], context seconds. */
  maxRms(from: number, to: number): number;
  /** Output time the log could not cover (timers stalled past the analyser's buffer). */
  uncoveredSeconds(): number;
  /** How many contexts send audio to a destination. */
  contexts(): number;
}

declare global {
  interface Window {
    __outputTap?: OutputTap;
  }
}

/** Runs in the page, before its scripts. Self-contained: Playwright serialises it. */
function installTap(): void {
  const FFT = 32768;
  type Connect = (this: AudioNode, destination: unknown, ...rest: unknown[]) => unknown;
  type Disconnect = (this: AudioNode, ...args: unknown[]) => void;
  const connect = AudioNode.prototype.connect as Connect;
  const disconnect = AudioNode.prototype.disconnect as Disconnect;
  interface Tap {
    context: BaseAudioContext;
    analyser: AnalyserNode;
    buffer: Float32Array<ArrayBuffer>;
    /** Context frame up to which the log is complete. */
    seenFrame: number;
    log: { end: number; rms: number }[];
    uncovered: number;
  }
  const taps: Tap[] = [];
  const tapFor = (context: BaseAudioContext): Tap => {
    let tap = taps.find((t) => t.context === context);
    if (!tap) {
      const analyser = context.createAnalyser();
      analyser.fftSize = FFT;
      tap = {
        context,
        analyser,
        buffer: new Float32Array(FFT),
        seenFrame: Math.round(context.currentTime * context.sampleRate),
        log: [],
        uncovered: 0,
      };
      taps.push(tap);
    }
    return tap;
  };
  const sample = (tap: Tap) => {
    const rate = tap.context.sampleRate;
    const block = Math.round(rate / 100);
    const nowFrame = Math.round(tap.context.currentTime * rate);
    let fresh = nowFrame - tap.seenFrame;
    if (fresh < block) return;
    if (fresh > FFT) {
      tap.uncovered += (fresh - FFT) / rate;
      fresh = FFT;
    }
    fresh -= fresh % block;
    tap.analyser.getFloatTimeDomainData(tap.buffer);
    // The buffer ends at (about) nowFrame; its last `fresh` samples are new.
    for (let start = FFT - fresh; start < FFT; start += block) {
      let sum = 0;
      for (let i = start; i < start + block; i++) sum += tap.buffer[i]! * tap.buffer[i]!;
      tap.log.push({ end: (nowFrame - (FFT - start - block)) / rate, rms: Math.sqrt(sum / block) });
    }
    tap.seenFrame = nowFrame - ((nowFrame - tap.seenFrame) % block);
    if (tap.log.length > 60_000) tap.log.splice(0, tap.log.length - 60_000);
  };
  const sampleAll = () => {
    for (const tap of taps) if (tap.context.state !== 'closed') sample(tap);
  };
  setInterval(sampleAll, 50);

  AudioNode.prototype.connect = function (this: AudioNode, destination: unknown, ...rest: unknown[]) {
    const result = connect.call(this, destination, ...rest);
    if (destination instanceof AudioDestinationNode) connect.call(this, tapFor(this.context).analyser);
    return result;
  } as typeof AudioNode.prototype.connect;
  AudioNode.prototype.disconnect = function (this: AudioNode, ...args: unknown[]) {
    disconnect.apply(this, args);
    if (args[0] instanceof AudioDestinationNode) {
      const tap = taps.find((t) => t.context === this.context);
      try {
        if (tap) disconnect.call(this, tap.analyser);
      } catch {
        // Not connected to the tap (connected before the destination was): nothing to undo.
      }
    }
  } as typeof AudioNode.prototype.disconnect;

  const live = () => taps.filter((t) => t.context.state !== 'closed');
  window.__outputTap = {
    now: () => Math.max(0, ...live().map((t) => t.context.currentTime)),
    level() {
      sampleAll();
      return Math.max(0, ...live().flatMap((t) => t.log.slice(-2).map((b) => b.rms)));
    },
    maxRms(from, to) {
      sampleAll();
      let max = 0;
      for (const tap of live())
        for (const b of tap.log) if (b.end >= from && b.end <= to) max = Math.max(max, b.rms);
      return max;
    },
    uncoveredSeconds: () => taps.reduce((n, t) => n + t.uncovered, 0),
    contexts: () => live().length,
  };
}

/** Installs the tap in every page `context` opens from now on. */
export async function installOutputTap(context: BrowserContext): Promise<void> {
  await context.addInitScript(installTap);
}

/** RMS of the last 20 ms the page sent to its speakers (0 before any audio node exists). */
export function tappedLevel(page: Page): Promise<number> {
  return page.evaluate(() => window.__outputTap?.level() ?? 0);
}
