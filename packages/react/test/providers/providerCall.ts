import {
  type Conversation,
  type ConversationMode,
  type ConversationOptions,
  type ConversationStatus,
  createConversation,
  type DisconnectReason,
} from '@voicewire/core';
import { inject } from 'vitest';
import { commands } from 'vitest/browser';
import { connectOptions, type ProviderCase } from '../../../../testing/providerCases.ts';
import type { CredentialKind } from '../../../../testing/providerCredentials.ts';
import {
  createOutputTap,
  type OutputTap,
  type RecordedSocket,
  recordPage,
  until,
} from '../../../../testing/providerPage.ts';

export { until };

/**
 * One call of a provider against the local agent, with everything a test reads beside the
 * library's state: the sockets it opened (what crossed them, testing/providerPage.ts), the tap
 * after its player, and the statuses, modes and disconnects it went through.
 */

export const agentOrigin = inject('providersAgentOrigin');
export const greeting = inject('providersGreeting');
export const page = recordPage();

/** Level measurements need the raw microphone: Chrome's processing changes the fake mic. */
export const RAW_MIC = { echoCancellation: false, noiseSuppression: false, autoGainControl: false } as const;

const mintCommand = commands as unknown as {
  mintCredential(origin: string, kind: CredentialKind, target: string, query: string): Promise<string>;
};

/** The options that reach `providerCase`'s endpoint on the local agent, with its per-call `query`. */
export function providerOptions(providerCase: ProviderCase, query = ''): Partial<ConversationOptions> {
  page.use(providerCase);
  return connectOptions(providerCase, agentOrigin, query, (kind, target, q) =>
    mintCommand.mintCredential(agentOrigin, kind, target, q),
  );
}

export interface Call {
  readonly providerCase: ProviderCase;
  readonly conversation: Conversation;
  readonly tap: OutputTap;
  /** The sockets this call opened, oldest first. */
  sockets(): RecordedSocket[];
  /** Its newest socket (throws before one opened). */
  socket(): RecordedSocket;
  /** Its AudioContext (throws before `start()`). */
  context(): AudioContext;
  /** Its microphone tracks. */
  tracks(): MediaStreamTrack[];
  readonly statuses: ConversationStatus[];
  readonly modes: ConversationMode[];
  readonly disconnects: DisconnectReason[];
  /** Context time of the first `ended` status (NaN before it). */
  endedAt: number;
}

/** A conversation with `providerCase` (muted at first: the fake microphone's tone is the user speaking). */
export function openCall(
  providerCase: ProviderCase,
  {
    query = '',
    muted = true,
    ...options
  }: Partial<ConversationOptions> & { query?: string; muted?: boolean } = {},
): Call {
  const tap = createOutputTap();
  const firstSocket = page.sockets.length;
  const firstContext = page.contexts.length;
  const firstTrack = page.tracks.length;
  const conversation = createConversation({
    ...providerOptions(providerCase, query),
    input: { ...RAW_MIC },
    reconnect: false,
    wakeLock: false,
    audio: tap.audio,
    ...options,
  } as ConversationOptions);
  if (muted) conversation.mute();
  const call: Call = {
    providerCase,
    conversation,
    tap,
    sockets: () => page.sockets.slice(firstSocket),
    socket() {
      const socket = page.sockets.slice(firstSocket).at(-1);
      if (!socket) throw new Error('no socket opened yet');
      return socket;
    },
    context() {
      const context = page.contexts.slice(firstContext)[0];
      if (!context) throw new Error('no AudioContext yet');
      return context;
    },
    tracks: () => page.tracks.slice(firstTrack),
    statuses: [],
    modes: [],
    disconnects: [],
    endedAt: Number.NaN,
  };
  conversation.on('statusChange', (status) => {
    call.statuses.push(status);
    if (status === 'ended' && Number.isNaN(call.endedAt)) call.endedAt = call.context().currentTime;
  });
  conversation.on('modeChange', (mode) => call.modes.push(mode));
  conversation.on('disconnect', (reason) => call.disconnects.push(reason));
  return call;
}

/** For a fixed window in which something must NOT happen, or a stimulus of a given length. */
export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** The library's capture frame (every provider here keeps the default). */
const FRAME_MS = 20;

/**
 * The user says something: the microphone (its tone) is on until `ms` of it has gone out on the
 * wire, then off. Counted on the wire, not timed from the unmute: on a loaded machine the first
 * frames after an unmute may leave late, and the server would hear a shorter turn, or none.
 */
export async function speak(call: Call, ms = 800): Promise<void> {
  const socket = call.socket();
  const from = socket.sent.length;
  const spoken = () =>
    socket.sent
      .slice(from)
      .filter((e) => e.frame?.kind === 'micAudio' && e.frame.samples.some((v) => Math.abs(v) > 0.05)).length;
  call.conversation.unmute();
  await until(() => spoken() * FRAME_MS >= ms, 20_000, `${ms} ms of the user's voice on the wire`);
  call.conversation.mute();
}

/** Everything of `call` was released: its microphone tracks, its context and its sockets. */
export async function released(call: Call, timeoutMs = 10_000): Promise<void> {
  await until(
    () => call.tracks().every((track) => track.readyState === 'ended'),
    timeoutMs,
    'the microphone',
  );
  await until(() => call.context().state === 'closed', timeoutMs, 'the AudioContext to close');
  await until(
    () => call.sockets().every((s) => s.ws.readyState === WebSocket.CLOSED),
    timeoutMs,
    'the sockets to close',
  );
}

/** The words of a text, for comparing transcripts. */
export function words(text: string): string[] {
  return text
    .toLowerCase()
    .replace(/[^a-z0-9' ]+/g, ' ')
    .split(/\s+/)
    .filter(Boolean);
}
