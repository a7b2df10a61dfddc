/**
 * One OpenAI Realtime connection to the local agent: `session.created` on connect, the client's
 * events decoded into the brain's inputs, and the brain's outputs as the GA event sequence
 * `@openai/agents-realtime` validates (every field its schemas require). See docs/providers.md,
 * "OpenAI Realtime".
 */
import { decodeBase64 } from '@voicewire/core';
import type { AgentErrorKind, DialectConnection, DialectHost } from '../../dialect.ts';
import type { SpeechResponse } from '../../response.ts';
import type { AudioChunk } from '../../speech.ts';
import { OPENAI_GARBAGE_FRAMES } from './garbage.ts';
import { openConnection } from './handshake.ts';
import { CONTENT_INDEX, OpenAIEvents, type StoredItem } from './OpenAIEvents.ts';
import {
  applySessionUpdate,
  defaultSessionConfig,
  inputEncodingOf,
  mespeakVoice,
  type OpenAISessionConfig,
  outputEncodingOf,
  sessionObject,
} from './sessionConfig.ts';

/** Without a `session.update`, an `auto` greeting starts this long after `session.created`. */
const AUTO_GREETING_WAIT_MS = 1_000;
export class OpenAIConnection implements DialectConnection {
  readonly garbage = OPENAI_GARBAGE_FRAMES;
  readonly #host: DialectHost;
  #config!: OpenAISessionConfig;
  #greeting: 'on-request' | 'auto' = 'on-request';
  #updates = 0;
  #truncations: string[] = [];
  #conversationId = '';

  readonly #events: OpenAIEvents;

  constructor(host: DialectHost) {
    this.#host = host;
    this.#events = new OpenAIEvents(
      host,
      () => this.#config,
      () => this.#conversationId,
    );
  }

  opened(): void {
    const host = this.#host;
    const opened = openConnection(host);
    if (!opened.ok) {
      host.setSummary(`refused: ${opened.code}`);
      this.#events.error(opened.type, opened.code, opened.message, opened.param, null);
      host.close(opened.closeCode, opened.code);
      return;
    }
    this.#greeting = opened.greeting;
    this.#config = defaultSessionConfig(this.#events.id('sess_'), opened.model, host.ctx.silenceMs);
    this.#conversationId = host.start({
      agentId: opened.model,
      input: inputEncodingOf(this.#config.inputFormat),
      output: { ...outputEncodingOf(this.#config.outputFormat), voice: mespeakVoice(this.#config.voice) },
      policy: { detectTurns: true, respond: true, interrupt: true, silenceMs: host.ctx.silenceMs },
      query: opened.query,
      summary: opened.anonymous ? 'anonymous' : '',
    });
    this.#events.send({
      type: 'session.created',
      event_id: this.#events.id('event_'),
      session: sessionObject(this.#config),
    });
    if (this.#greeting === 'auto') {
      host.later(AUTO_GREETING_WAIT_MS, () => {
        if (this.#updates === 0) this.#greet();
      });
    }
  }

  receiveBinary(): void {
    this.#events.error(
      'invalid_request_error',
      'invalid_message',
      'Binary frames are not part of the Realtime API: send JSON text events.',
      null,
      null,
    );
  }

  receiveText(text: string): void {
    let event: unknown;
    try {
      event = JSON.parse(text);
    } catch {
      this.#events.error(
        'invalid_request_error',
        'invalid_json',
        'We could not parse the JSON body of your request: the event must be one JSON object.',
        null,
        null,
      );
      return;
    }
    if (typeof event !== 'object' || event === null || Array.isArray(event)) {
      this.#events.error(
        'invalid_request_error',
        'invalid_type',
        'The event must be a JSON object.',
        null,
        null,
      );
      return;
    }
    const record = event as Record<string, unknown>;
    const eventId = typeof record.event_id === 'string' ? record.event_id : null;
    if (typeof record.type !== 'string') {
      this.#events.error(
        'invalid_request_error',
        'missing_required_parameter',
        "Missing required parameter: 'type'.",
        'type',
        eventId,
      );
      return;
    }
    if (!this.#host.live) return;
    this.#dispatch(record.type, record, eventId);
  }

  #dispatch(type: string, event: Record<string, unknown>, eventId: string | null): void {
    const host = this.#host;
    switch (type) {
      case 'session.update': {
        this.#updateSession(event.session, eventId);
        return;
      }
      case 'input_audio_buffer.append': {
        if (typeof event.audio !== 'string') {
          this.#invalid("Missing required parameter: 'audio' (a base64 string).", 'audio', eventId);
          return;
        }
        let bytes: Uint8Array;
        try {
          bytes = decodeBase64(event.audio);
        } catch (error) {
          this.#invalid(`Invalid 'audio': not valid base64 (${errorText(error)}).`, 'audio', eventId);
          return;
        }
        const problem = host.audioIn(bytes);
        if (problem !== undefined) this.#invalid(`Invalid 'audio': ${problem}.`, 'audio', eventId);
        return;
      }
      case 'input_audio_buffer.commit': {
        const problem = host.commitInput();
        if (problem !== undefined) {
          this.#events.error(
            'invalid_request_error',
            'input_audio_buffer_commit_empty',
            `Error committing input audio buffer: ${problem}.`,
            null,
            eventId,
          );
        }
        return;
      }
      case 'input_audio_buffer.clear':
        host.clearInput();
        this.#events.forgetSpeech();
        this.#events.send({ type: 'input_audio_buffer.cleared', event_id: this.#events.id('event_') });
        return;
      case 'conversation.item.create':
        this.#createItem(event.item, eventId);
        return;
      case 'conversation.item.retrieve': {
        const item = typeof event.item_id === 'string' ? this.#events.items.get(event.item_id) : undefined;
        if (!item) {
          this.#events.error(
            'invalid_request_error',
            'item_retrieve_invalid_item_id',
            `Error retrieving item: no item with id ${show(event.item_id)}.`,
            'item_id',
            eventId,
          );
          return;
        }
        this.#events.send({
          type: 'conversation.item.retrieved',
          event_id: this.#events.id('event_'),
          item: this.#events.itemJson(item),
        });
        return;
      }
      case 'conversation.item.delete': {
        const id = typeof event.item_id === 'string' ? event.item_id : undefined;
        if (id === undefined || !this.#events.items.delete(id)) {
          this.#events.error(
            'invalid_request_error',
            'item_delete_invalid_item_id',
            `Error deleting item: no item with id ${show(event.item_id)}.`,
            'item_id',
            eventId,
          );
          return;
        }
        this.#events.send({
          type: 'conversation.item.deleted',
          event_id: this.#events.id('event_'),
          item_id: id,
        });
        return;
      }
      case 'conversation.item.truncate':
        this.#truncate(event, eventId);
        return;
      case 'response.create': {
        const answer = host.requestResponse();
        if (answer === 'active') {
          this.#events.error(
            'invalid_request_error',
            'conversation_already_has_active_response',
            'Conversation already has an active response in progress.',
            null,
            eventId,
          );
        }
        return;
      }
      case 'response.cancel':
        // A cancel that crosses the end of the response it meant is not worth an error: the
        // client's SDK sends one on every barge-in, when the agent has already stopped.
        host.cancelResponse();
        return;
      case 'output_audio_buffer.clear':
        // WebRTC's playback buffer: a WebSocket client plays its own audio.
        return;
      default:
        host.logUnknownType(type);
        this.#events.error(
          'invalid_request_error',
          'invalid_value',
          `Invalid value: ${show(type)}. The local agent does not support this client event.`,
          'type',
          eventId,
        );
    }
  }

  #updateSession(session: unknown, eventId: string | null): void {
    const host = this.#host;
    const applied = applySessionUpdate(this.#config, session);
    if (!applied.ok) {
      this.#invalid(applied.message, applied.param, eventId);
      return;
    }
    const before = this.#config;
    const config = applied.config;
    this.#config = config;
    if (config.inputFormat.type !== before.inputFormat.type) {
      const { encoding, sampleRate } = inputEncodingOf(config.inputFormat);
      host.setInput(encoding, sampleRate);
    }
    host.setOutput({ ...outputEncodingOf(config.outputFormat), voice: mespeakVoice(config.voice) });
    const td = config.turnDetection;
    host.setTurnPolicy(
      td === null
        ? { detectTurns: false, respond: false, interrupt: false }
        : {
            detectTurns: true,
            respond: td.create_response,
            interrupt: td.interrupt_response,
            silenceMs:
              td.type === 'server_vad' && typeof td.silence_duration_ms === 'number'
                ? td.silence_duration_ms
                : host.ctx.silenceMs,
          },
    );
    this.#events.send({
      type: 'session.updated',
      event_id: this.#events.id('event_'),
      session: sessionObject(config),
    });
    if (++this.#updates === 1 && this.#greeting === 'auto') this.#greet();
  }

  #greet(): void {
    const text = this.#host.ctx.greeting.trim();
    if (text !== '' && !this.#host.greeted) this.#host.speakGreeting(text);
  }

  #createItem(item: unknown, eventId: string | null): void {
    if (typeof item !== 'object' || item === null || Array.isArray(item)) {
      this.#invalid("Missing required parameter: 'item' (an object).", 'item', eventId);
      return;
    }
    const given = item as Record<string, unknown>;
    const type = given.type ?? 'message';
    if (typeof type !== 'string') {
      this.#invalid("Invalid 'item.type': must be a string.", 'item.type', eventId);
      return;
    }
    if (type === 'message' && !['user', 'assistant', 'system'].includes(String(given.role))) {
      this.#invalid(
        `Invalid 'item.role': must be "user", "assistant" or "system"; got ${show(given.role)}.`,
        'item.role',
        eventId,
      );
      return;
    }
    const content = Array.isArray(given.content) ? given.content : [];
    const text = content
      .map((part) => (typeof part === 'object' && part !== null ? (part as Record<string, unknown>) : {}))
      .filter((part) => part.type === 'input_text' && typeof part.text === 'string')
      .map((part) => part.text as string)
      .join('\n');
    const id = typeof given.id === 'string' && given.id !== '' ? given.id : this.#events.id('item_');
    const stored: StoredItem = { id, kind: 'client', item: { ...given, type, id } };
    const previous = this.#events.remember(stored);
    const json = this.#events.itemJson(stored);
    this.#events.send({
      type: 'conversation.item.added',
      event_id: this.#events.id('event_'),
      previous_item_id: previous,
      item: json,
    });
    this.#events.send({
      type: 'conversation.item.done',
      event_id: this.#events.id('event_'),
      previous_item_id: previous,
      item: json,
    });
    // The user's typed words wait for `response.create`, as the service's do.
    if (type === 'message' && given.role === 'user' && text.trim() !== '') this.#host.textInput(text, false);
  }

  #truncate(event: Record<string, unknown>, eventId: string | null): void {
    const item = typeof event.item_id === 'string' ? this.#events.items.get(event.item_id) : undefined;
    if (item?.kind !== 'assistant') {
      this.#events.error(
        'invalid_request_error',
        'item_truncate_invalid_item_id',
        `Error truncating item: no assistant audio item with id ${show(event.item_id)}.`,
        'item_id',
        eventId,
      );
      return;
    }
    if (event.content_index !== CONTENT_INDEX) {
      this.#invalid(
        `Invalid 'content_index': the item has one content part, 0; got ${show(event.content_index)}.`,
        'content_index',
        eventId,
      );
      return;
    }
    const endMs = event.audio_end_ms;
    const response = item.response;
    if (typeof endMs !== 'number' || !Number.isInteger(endMs) || endMs < 0) {
      this.#invalid(
        `Invalid 'audio_end_ms': must be a whole number of ms; got ${show(endMs)}.`,
        'audio_end_ms',
        eventId,
      );
      return;
    }
    const lengthMs = Math.ceil(response.durationMs);
    if (endMs > lengthMs) {
      this.#invalid(
        `Invalid 'audio_end_ms': the item's audio is ${lengthMs} ms long; got ${endMs}.`,
        'audio_end_ms',
        eventId,
      );
      return;
    }
    // Truncating what is still playing stops it, as on the service.
    if (item.status === 'in_progress') this.#host.cancelResponse();
    this.#host.heard(response, endMs);
    item.status = 'incomplete';
    this.#truncations.push(`${endMs}ms`);
    this.#events.send({
      type: 'conversation.item.truncated',
      event_id: this.#events.id('event_'),
      item_id: item.id,
      content_index: CONTENT_INDEX,
      audio_end_ms: endMs,
    });
  }

  // -------------------------------------------------------------------------------------------
  // The brain's outputs

  speechStarted(audioStartMs: number): void {
    this.#events.speechStarted(audioStartMs);
  }

  userTurn(turn: {
    description: string;
    audioEndMs: number;
    detected: boolean;
    speechSeconds: number;
  }): void {
    this.#events.userTurn(turn);
  }

  responseStarted(response: SpeechResponse): void {
    this.#events.responseStarted(response);
  }

  audio(response: SpeechResponse, chunk: AudioChunk): void {
    this.#events.audio(response, chunk);
  }

  responseDone(response: SpeechResponse): void {
    this.#events.finish(response, 'completed');
  }

  responseInterrupted(response: SpeechResponse, cause: 'speech' | 'client'): void {
    this.#events.finish(response, 'cancelled', cause === 'speech' ? 'turn_detected' : 'client_cancelled');
  }

  greetingEnded(): void {}

  /** The service has no hang-up event: the close says it. */
  hangingUp(): number {
    return 0;
  }

  error(kind: AgentErrorKind, message: string): void {
    if (kind === 'internal') this.#events.error('server_error', 'server_error', message, null, null);
    else this.#events.error('invalid_request_error', 'invalid_value', message, null, null);
  }

  faultError(code: number, message: string): void {
    this.#events.error(
      code >= 4500 ? 'server_error' : 'invalid_request_error',
      String(code),
      message,
      null,
      null,
    );
  }

  describe(): string {
    if (!this.#config) return '';
    const td = this.#config.turnDetection;
    return [
      `in=${this.#config.inputFormat.type} out=${this.#config.outputFormat.type} voice=${this.#config.voice}`,
      `turn_detection=${td ? td.type : 'none'}`,
      ...(this.#truncations.length ? [`truncated=${this.#truncations.join(',')}`] : []),
    ].join(' ');
  }

  // -------------------------------------------------------------------------------------------

  #invalid(message: string, param: string, eventId: string | null): void {
    this.#events.error('invalid_request_error', 'invalid_value', message, param, eventId);
  }
}

function show(value: unknown): string {
  if (typeof value === 'string') return `'${value.length > 40 ? `${value.slice(0, 40)}…` : value}'`;
  return value === undefined ? 'nothing' : value === null ? 'null' : typeof value;
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
