import { decodeBase64 } from '../../codec/base64.ts';
import type { ProviderError, ProviderEvent } from '../types.ts';
import { describeErrorCode, errorFromServerMessage } from './errorCodes.ts';
import type { ServerMessage } from './messages.ts';
import { parseServerMessage } from './parseServerMessage.ts';

/** What one socket's decoder remembers between frames. */
export interface PlayAIDecodeState {
  /**
   * The transcript's last turn, as far as this socket told it: `onAgentGreetingEnd` repeats the
   * greeting's text and may complete the greeting turn, but must not start a new turn after a
   * barge-in or after the user's words.
   */
  lastTurn: 'none' | 'agent' | 'user' | 'interrupted';
  /** A non-fatal server error seen on this socket: it decides what the socket's close means. */
  lastError: ProviderError | null;
}

export function createDecodeState(): PlayAIDecodeState {
  return { lastTurn: 'none', lastError: null };
}

/**
 * One frame of the talk protocol (docs/protocol.md) as neutral events. Never throws: a malformed
 * frame is one `invalid` event; a type this version does not know produces nothing (a client
 * still sees it through `onMessage`).
 */
export function decodePlayAIFrame(data: unknown, state: PlayAIDecodeState): ProviderEvent[] {
  const parsed = parseServerMessage(data);
  if (parsed.kind === 'invalid') {
    const binary = typeof data !== 'string';
    return [
      {
        type: 'invalid',
        message: binary ? 'The server sent a binary frame; the talk protocol is JSON text.' : parsed.error,
      },
    ];
  }
  if (parsed.kind === 'unknown') return [];
  return onMessage(parsed.message, state);
}

function onMessage(message: ServerMessage, state: PlayAIDecodeState): ProviderEvent[] {
  switch (message.type) {
    case 'init':
      return [{ type: 'ready', conversationId: message.conversationId }];
    case 'audioStream': {
      let bytes: Uint8Array;
      try {
        bytes = decodeBase64(message.data);
      } catch (error) {
        const reason = error instanceof Error ? error.message : String(error);
        return [{ type: 'invalid', message: `Agent audio was not valid base64: ${reason}` }];
      }
      return bytes.length > 0 ? [{ type: 'agentAudio', data: bytes }] : [];
    }
    case 'newAudioStream':
      return [{ type: 'agentUtteranceStart' }];
    case 'audioStreamEnd':
      return [{ type: 'agentUtteranceEnd' }];
    case 'voiceActivityStart':
      return [{ type: 'userSpeechStart' }];
    case 'voiceActivityEnd':
      return [{ type: 'userSpeechEnd' }];
    case 'onUserTranscript':
      if (message.message.trim() !== '') state.lastTurn = 'user';
      return [{ type: 'transcript', role: 'user', text: message.message, mode: 'final' }];
    case 'onAgentTranscript':
    case 'onAgentGreeting':
      if (message.message.trim() !== '') state.lastTurn = 'agent';
      return [{ type: 'transcript', role: 'agent', text: message.message, mode: 'final' }];
    case 'onAgentGreetingEnd': {
      const open = state.lastTurn === 'none' || state.lastTurn === 'agent';
      if (message.message === undefined || !open || message.message.trim() === '') return [];
      state.lastTurn = 'agent';
      return [{ type: 'transcript', role: 'agent', text: message.message, mode: 'final', repeat: true }];
    }
    case 'onAgentInterrupted':
      state.lastTurn = 'interrupted';
      return [
        message.updatedMessage === undefined
          ? { type: 'interrupted' }
          : { type: 'interrupted', spokenText: message.updatedMessage },
      ];
    case 'hangup':
      return [{ type: 'hangup' }];
    case 'customEvent':
      return [
        { type: 'customEvent', name: message.name, data: 'data' in message ? message.data : undefined },
      ];
    case 'error':
      return [onError(message, state)];
    default:
      // audioStreamStart, llmStreamEnd, logs, navigate, uiEvent: seen through onMessage only.
      return [];
  }
}

/**
 * A server `error` message: a retryable one (4429, 4500, unknown codes) lets the session go on,
 * or, marked `isFatal`, ends this socket and reconnects at once; a fatal one ends the
 * conversation; any other is reported and decides what the socket's close will mean.
 */
function onError(message: ServerMessage & { type: 'error' }, state: PlayAIDecodeState): ProviderEvent {
  const error = errorFromServerMessage(message).toJSON();
  if (describeErrorCode(message.code).retryable) {
    const soft = { ...error, fatal: false };
    state.lastError = soft;
    return { type: 'error', error: soft, outcome: message.isFatal === true ? 'reconnect' : 'continue' };
  }
  if (error.fatal) return { type: 'error', error, outcome: 'fail' };
  state.lastError = error;
  return { type: 'error', error, outcome: 'continue' };
}
