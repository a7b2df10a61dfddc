import type { StoreApi } from 'zustand/vanilla';
import type { Emitter } from './emitter.ts';
import type { TalkGate } from './talkGate.ts';
import type { ConversationEventMap, ConversationOptions, ConversationState } from './types.ts';

/**
 * What a conversation keeps for its whole life, across calls, and shares with the engine that
 * runs its calls (engine.ts): the state, the events, the options, push-to-talk's gate, the
 * devices picked and the volume.
 */
export interface Shell {
  readonly store: StoreApi<ConversationState>;
  readonly events: Emitter<ConversationEventMap>;
  /** The options now (callbacks and `getToken` are read from here when used). */
  options(): ConversationOptions;
  /** Write what changed to the store and emit `statusChange`/`modeChange`. */
  update(patch: Partial<ConversationState>): void;
  /** Push-to-talk's gate between the microphone and the socket; it outlives calls. */
  readonly talkGate: TalkGate;
  /** Devices picked with setInputDevice/setOutputDevice: they win over the options, at every start. */
  readonly chosen: { input?: string | undefined; output?: string | undefined };
  volume(): number;
  /** The id of the next transcript turn: `turn-1`, `turn-2`… across calls. */
  nextTurnId(): string;
}
