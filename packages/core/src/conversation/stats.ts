import type { Player } from '../audio/types.ts';
import { safely } from './safely.ts';
import { now } from './time.ts';
import type { ConversationStats } from './types.ts';

/** After this long the player's interruption measurement is surely the latest one. */
const INTERRUPTION_SETTLE_MS = 100;

/** The counters one run adds to, plus the two per-turn timings. */
export interface StatsRecorder {
  /** Counters, added to in place. */
  readonly totals: Omit<ConversationStats, 'player' | 'timeToFirstAudioMs' | 'interruptionMs'>;
  /** The agent is now expected to answer (the user stopped, or the conversation began). */
  awaitFirstAudio(): void;
  /** The player made a reply audible: records its time to first audio, if one was awaited. */
  audioStarted(player: Player): void;
  /**
   * The user barged in. If the agent was audible, the player's next interruption measurement
   * (the fade's end, reported asynchronously) is recorded for it. An awaited first audio is
   * forgotten: the interrupted reply's audio is dropped, so its time would be meaningless.
   */
  bargedIn(player: Player | null, agentWasAudible: boolean): void;
  /** A copy for `getStats()`, with the player's own counters when there is a player. */
  snapshot(player: Player | null | undefined): ConversationStats;
}

export function createStatsRecorder(): StatsRecorder {
  const totals = {
    framesSent: 0,
    framesDropped: 0,
    framesHeldBack: 0,
    bytesSent: 0,
    messagesReceived: 0,
    bytesReceived: 0,
    reconnects: 0,
  };
  const timeToFirstAudioMs: number[] = [];
  const interruptionMs: number[] = [];
  let awaitingAudioSince: number | null = null;
  /** The player's interruption measurement before the stream now playing. */
  let interruptionMsBefore: number | null | undefined;
  /** An interruption of audible agent audio waiting for the player's measurement. */
  let interruptionPending: { at: number; previous: number | null | undefined } | null = null;

  /**
   * Record the last interruption's time to silence once the player has measured it: the delay
   * from `voiceActivityStart` to `interrupt()` (called first thing) plus the fade, which the
   * player times on the audio clock.
   */
  function collectInterruption(player: Player | null | undefined): void {
    if (interruptionPending === null || !player) return;
    const measured = readInterruptionMs(player);
    if (measured === null || measured === undefined) return;
    if (measured === interruptionPending.previous && now() - interruptionPending.at < INTERRUPTION_SETTLE_MS)
      return;
    interruptionPending = null;
    interruptionMs.push(measured);
  }

  return {
    totals,
    awaitFirstAudio() {
      awaitingAudioSince = now();
    },
    audioStarted(player) {
      collectInterruption(player);
      interruptionMsBefore = readInterruptionMs(player);
      if (awaitingAudioSince !== null) {
        timeToFirstAudioMs.push(Math.max(0, now() - awaitingAudioSince));
        awaitingAudioSince = null;
      }
    },
    bargedIn(player, agentWasAudible) {
      if (agentWasAudible && player !== null) {
        collectInterruption(player);
        interruptionPending = { at: now(), previous: interruptionMsBefore };
      }
      awaitingAudioSince = null;
    },
    snapshot(player) {
      collectInterruption(player);
      const result: ConversationStats = {
        ...totals,
        timeToFirstAudioMs: timeToFirstAudioMs.slice(),
        interruptionMs: interruptionMs.slice(),
      };
      if (player) safely(() => (result.player = player.getStats()));
      return result;
    },
  };
}

function readInterruptionMs(player: Player): number | null | undefined {
  try {
    return player.getStats().lastInterruptionMs;
  } catch {
    return undefined;
  }
}
