import type { ProviderEvent } from '../providers/types.ts';
import { type Connection, connected, onServerError } from './connection.ts';
import { errorText } from './conversationError.ts';
import { nothingLeftToHear } from './drain.ts';
import type { ConversationHost, Run } from './run.ts';
import { safely } from './safely.ts';
import { applyTranscript, interruptAgentTurn } from './transcript.ts';

/**
 * What a server frame does to a run: the provider decodes it into neutral events
 * (providers/types.ts), and this applies them. Decoding never throws (a provider reports a
 * malformed frame as `invalid`); every frame is counted and, as text, given to `onMessage` first.
 */
export function onServerFrame(host: ConversationHost, current: Run, conn: Connection, data: unknown): void {
  if (current.conn !== conn || current.ended) return;
  const raw = typeof data === 'string' ? data : null;
  current.stats.totals.messagesReceived += 1;
  current.stats.totals.bytesReceived += raw !== null ? raw.length : byteLength(data);
  let events: ProviderEvent[];
  try {
    events = conn.socket.decode(data);
  } catch (error) {
    events = [{ type: 'invalid', message: `The server's frame could not be read: ${errorText(error)}` }];
  }
  // Barge-in comes before everything else, callbacks included: every millisecond here is agent
  // audio talking over the user.
  if (events.some((event) => event.type === 'userSpeechStart')) bargeIn(host, current, conn, false);
  if (raw !== null) host.events.emit('message', raw);
  for (const event of events) {
    if (current.ended || current.conn !== conn) return;
    onEvent(host, current, conn, event);
  }
}

/**
 * The user took the floor (the server heard them, or they pressed the talk control): the agent's
 * voice stops now, locally, and audio of that utterance still on its way is dropped until the
 * next one starts. If something was cut off, the provider tells the server what was heard
 * (OpenAI truncates the rest of that item) and, where the server never says what the agent
 * managed to say, the transcript keeps the share the user heard.
 */
export function bargeIn(host: ConversationHost, current: Run, conn: Connection | null, local: boolean): void {
  const speaking = host.store.getState().mode === 'agentSpeaking';
  const cutOff = speaking || current.audioPending;
  const position = readPosition(current);
  host.withPlayer(current, (player) => player.interrupt());
  // The interrupted reply will never play out: nothing is left to drain.
  current.audioPending = false;
  current.stats.bargedIn(current.player, speaking);
  if (!cutOff) return;
  if (current.session?.transcriptOnInterrupt === 'estimate') {
    const heard = position.playedMs + position.pendingMs;
    const share = heard > 0 ? position.playedMs / heard : undefined;
    host.update({ transcript: interruptAgentTurn(host.store.getState().transcript, undefined, share) });
  }
  if (conn?.ready) {
    for (const frame of conn.socket.bargeIn({ playedMs: position.playedMs, cutOff, local })) {
      current.uplink.send(conn, frame);
    }
  }
}

function readPosition(current: Run): { playedMs: number; pendingMs: number } {
  const player = current.player;
  let position = { playedMs: 0, pendingMs: 0 };
  if (player?.getPosition !== undefined) safely(() => (position = player.getPosition!()));
  return position;
}

function onEvent(host: ConversationHost, current: Run, conn: Connection, event: ProviderEvent): void {
  switch (event.type) {
    case 'ready': {
      // The greeting's time to first audio runs from the first connection.
      if (!current.attempts.everConnected) current.stats.awaitFirstAudio();
      if (event.input !== undefined) current.setInputFormat(event.input);
      if (event.output !== undefined) current.setOutputFormat(event.output);
      const first = connected(current, conn);
      const conversationId = event.conversationId ?? current.conversationId;
      current.conversationId = conversationId;
      host.ready(current, conversationId);
      if (first) host.events.emit('connect', conversationId ?? '');
      host.maybeResolveStarted(current);
      return;
    }
    case 'agentAudio':
      if (event.data.length > 0) {
        current.audioPending = true;
        host.withPlayer(current, (player) => player.enqueue(event.data));
      }
      return;
    case 'agentUtteranceStart':
      host.turn(current, 'replyStarted');
      host.withPlayer(current, (player) => player.newStream());
      return;
    case 'agentUtteranceEnd':
      // The reply is complete: its tail is flushed and the buffer running dry is `drained`.
      host.withPlayer(current, (player) => {
        player.endStream?.();
        // A server that ends a reply once it has had time to play (OpenAI's `output_audio.done`,
        // PlayAI's `audioStreamEnd`) finds it played out: its `drained` came before the end and
        // left it pending, so the next barge-in would cut off a reply heard in full.
        if (nothingLeftToHear(player)) current.audioPending = false;
      });
      host.turn(current, 'replyEnded');
      return;
    case 'userSpeechStart':
      host.turn(current, 'userSpeechStarted');
      return;
    case 'userSpeechEnd':
      current.stats.awaitFirstAudio();
      host.turn(current, 'userSpeechEnded');
      return;
    case 'transcript': {
      const state = host.store.getState();
      const transcript = applyTranscript(state.transcript, event, host.nextTurnId);
      if (transcript !== state.transcript) host.update({ transcript });
      if (event.mode === 'final' && event.repeat !== true && event.text.trim() !== '') {
        host.events.emit(event.role === 'user' ? 'userTranscript' : 'agentTranscript', event.text);
      }
      return;
    }
    case 'interrupted':
      host.update({ transcript: interruptAgentTurn(host.store.getState().transcript, event.spokenText) });
      return;
    case 'hangup':
      // The agent hung up: what it already said plays to its end first.
      host.drainThenEnd(current, { by: 'agent' });
      return;
    case 'customEvent':
      host.events.emit('customEvent', { name: event.name, data: event.data });
      return;
    case 'error':
      onServerError(host, current, event.error, event.outcome);
      return;
    case 'send':
      current.uplink.send(conn, event.frame);
      return;
    case 'keepalive':
      return;
    case 'invalid':
      host.events.emit('error', { kind: 'protocol', message: event.message, fatal: false });
      return;
  }
}

function byteLength(data: unknown): number {
  if (data instanceof ArrayBuffer || ArrayBuffer.isView(data)) return data.byteLength;
  const size = (data as { size?: unknown } | null)?.size;
  return typeof size === 'number' ? size : 0;
}
