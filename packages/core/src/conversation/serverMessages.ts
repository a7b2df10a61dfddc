import { decodeBase64 } from '../codec/base64.ts';
import type { ServerMessage } from '../protocol/messages.ts';
import { parseServerMessage } from '../protocol/parseServerMessage.ts';
import { type Connection, connected, onServerError } from './connection.ts';
import { errorText } from './conversationError.ts';
import type { ConversationHost, Run } from './run.ts';
import { interruptAgentTurn, mergeTranscript } from './transcript.ts';

/**
 * What each server message does to a run: the protocol's dispatch. Parsing never throws (a
 * malformed frame is a non-fatal `protocol` error); every frame is counted and, as text, given
 * to `onMessage` first.
 */
export function onServerFrame(host: ConversationHost, current: Run, conn: Connection, data: unknown): void {
  if (current.conn !== conn || current.ended) return;
  const raw = typeof data === 'string' ? data : null;
  current.stats.totals.messagesReceived += 1;
  current.stats.totals.bytesReceived += raw !== null ? raw.length : byteLength(data);
  const parsed = parseServerMessage(data);
  // Barge-in comes before everything else, callbacks included: every millisecond here is
  // agent audio talking over the user.
  if (parsed.kind === 'message' && parsed.message.type === 'voiceActivityStart') bargeIn(host, current);
  if (raw !== null) host.events.emit('message', raw);
  if (current.ended) return;
  if (parsed.kind === 'invalid') {
    protocolError(
      host,
      raw === null ? 'The server sent a binary frame; the talk protocol is JSON text.' : parsed.error,
    );
    return;
  }
  if (parsed.kind === 'message') onServerMessage(host, current, conn, parsed.message);
  // 'unknown': a message type this version does not know, seen through onMessage only.
}

function bargeIn(host: ConversationHost, current: Run): void {
  host.withPlayer(current, (player) => player.interrupt());
  current.stats.bargedIn(current.player, host.store.getState().mode === 'agentSpeaking');
}

function onServerMessage(
  host: ConversationHost,
  current: Run,
  conn: Connection,
  message: ServerMessage,
): void {
  switch (message.type) {
    case 'init': {
      // The greeting's time to first audio runs from the first connection.
      if (!current.attempts.everConnected) current.stats.awaitFirstAudio();
      const first = connected(current, conn);
      current.conversationId = message.conversationId;
      host.update({ status: 'connected', conversationId: message.conversationId, error: null });
      if (first) host.events.emit('connect', message.conversationId);
      host.maybeResolveStarted(current);
      return;
    }
    case 'audioStream': {
      let bytes: Uint8Array;
      try {
        bytes = decodeBase64(message.data);
      } catch (error) {
        protocolError(host, `Agent audio was not valid base64: ${errorText(error)}`);
        return;
      }
      if (bytes.length > 0) host.withPlayer(current, (player) => player.enqueue(bytes));
      return;
    }
    case 'newAudioStream':
      host.turn(current, 'replyStarted');
      host.withPlayer(current, (player) => player.newStream());
      return;
    case 'audioStreamEnd':
      // The reply is complete: its tail is flushed and the buffer running dry is `drained`.
      host.withPlayer(current, (player) => player.endStream?.());
      host.turn(current, 'replyEnded');
      return;
    case 'voiceActivityStart':
      host.turn(current, 'userSpeechStarted');
      return;
    case 'voiceActivityEnd':
      current.stats.awaitFirstAudio();
      host.turn(current, 'userSpeechEnded');
      return;
    case 'onUserTranscript':
      addTranscript(host, 'user', message.message);
      host.events.emit('userTranscript', message.message);
      return;
    case 'onAgentTranscript':
    case 'onAgentGreeting':
      addTranscript(host, 'agent', message.message);
      host.events.emit('agentTranscript', message.message);
      return;
    case 'onAgentGreetingEnd': {
      // It repeats the greeting's text: it may complete the greeting turn, but must not start a
      // new turn after a barge-in or after the user's words.
      const last = host.store.getState().transcript.at(-1);
      const open = last === undefined || (last.role === 'agent' && !last.interrupted);
      if (message.message !== undefined && open) addTranscript(host, 'agent', message.message);
      return;
    }
    case 'onAgentInterrupted':
      host.update({
        transcript: interruptAgentTurn(host.store.getState().transcript, message.updatedMessage),
      });
      return;
    case 'hangup':
      void host.endRun(current, 'ended', null, { by: 'agent' });
      return;
    case 'customEvent':
      host.events.emit('customEvent', {
        name: message.name,
        data: 'data' in message ? message.data : undefined,
      });
      return;
    case 'error':
      onServerError(host, current, conn, message);
    // audioStreamStart, llmStreamEnd, logs, navigate, uiEvent: seen through onMessage only.
  }
}

function protocolError(host: ConversationHost, message: string): void {
  host.events.emit('error', { kind: 'protocol', message, fatal: false });
}

function addTranscript(host: ConversationHost, role: 'user' | 'agent', text: string): void {
  const transcript = host.store.getState().transcript;
  host.update({ transcript: mergeTranscript(transcript, role, text, host.nextTurnId) });
}

function byteLength(data: unknown): number {
  if (data instanceof ArrayBuffer || ArrayBuffer.isView(data)) return data.byteLength;
  const size = (data as { size?: unknown } | null)?.size;
  return typeof size === 'number' ? size : 0;
}
