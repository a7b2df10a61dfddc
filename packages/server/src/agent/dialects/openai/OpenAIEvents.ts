/**
 * The server events of one OpenAI Realtime connection: ids like the service's, the conversation's
 * items (for `retrieve`, `truncate`, `delete`), and the GA event sequences for the brain's
 * outputs, with every field `@openai/agents-realtime`'s schemas require.
 */
import { randomBytes } from 'node:crypto';
import type { DialectHost } from '../../dialect.ts';
import type { SpeechResponse } from '../../response.ts';
import type { AudioChunk } from '../../speech.ts';
import type { OpenAISessionConfig } from './sessionConfig.ts';

/** Items remembered for `conversation.item.retrieve` and `truncate`; the oldest go first. */
const MAX_ITEMS = 500;
/** The first content part of the first output item: the agent only ever makes one of each. */
export const OUTPUT_INDEX = 0;
export const CONTENT_INDEX = 0;

type ItemStatus = 'in_progress' | 'completed' | 'incomplete';
export type StoredItem =
  | { id: string; kind: 'assistant'; response: SpeechResponse; status: ItemStatus }
  | { id: string; kind: 'user-audio'; transcript: string | null }
  | { id: string; kind: 'client'; item: Record<string, unknown> };

interface ResponseIds {
  responseId: string;
  itemId: string;
}

export class OpenAIEvents {
  readonly items = new Map<string, StoredItem>();
  readonly #host: DialectHost;
  readonly #config: () => OpenAISessionConfig;
  readonly #conversationId: () => string;
  readonly #idPrefix = randomBytes(6).toString('base64url');
  #nextId = 0;
  #lastItemId: string | null = null;
  readonly #responses = new Map<number, ResponseIds>();
  /** The user item a `speech_started` named, until its turn ends. */
  #speakingItemId: string | undefined;

  constructor(host: DialectHost, config: () => OpenAISessionConfig, conversationId: () => string) {
    this.#host = host;
    this.#config = config;
    this.#conversationId = conversationId;
  }

  /** The input buffer was cleared: the turn a `speech_started` announced will not come. */
  forgetSpeech(): void {
    this.#speakingItemId = undefined;
  }

  /** `speech_started`; the item it names is the user turn that follows. */
  speechStarted(audioStartMs: number): void {
    this.#speakingItemId = this.id('item_');
    this.send({
      type: 'input_audio_buffer.speech_started',
      event_id: this.id('event_'),
      audio_start_ms: Math.round(audioStartMs),
      item_id: this.#speakingItemId,
    });
  }

  userTurn(turn: {
    description: string;
    audioEndMs: number;
    detected: boolean;
    speechSeconds: number;
  }): void {
    const itemId = this.#speakingItemId ?? this.id('item_');
    this.#speakingItemId = undefined;
    if (turn.detected) {
      this.send({
        type: 'input_audio_buffer.speech_stopped',
        event_id: this.id('event_'),
        audio_end_ms: Math.round(turn.audioEndMs),
        item_id: itemId,
      });
    }
    const item: StoredItem = { id: itemId, kind: 'user-audio', transcript: null };
    const previous = this.remember(item);
    this.send({
      type: 'input_audio_buffer.committed',
      event_id: this.id('event_'),
      previous_item_id: previous,
      item_id: itemId,
    });
    const json = this.itemJson(item);
    this.send({
      type: 'conversation.item.added',
      event_id: this.id('event_'),
      previous_item_id: previous,
      item: json,
    });
    this.send({
      type: 'conversation.item.done',
      event_id: this.id('event_'),
      previous_item_id: previous,
      item: json,
    });
    // No recogniser runs offline: the "transcript" says how much speech there was.
    if (this.#config().transcription !== null) {
      item.transcript = turn.description;
      this.send({
        type: 'conversation.item.input_audio_transcription.completed',
        event_id: this.id('event_'),
        item_id: itemId,
        content_index: CONTENT_INDEX,
        transcript: turn.description,
        usage: { type: 'duration', seconds: Math.max(0, Math.round(turn.speechSeconds)) },
      });
    }
  }

  responseStarted(response: SpeechResponse): void {
    const ids = { responseId: this.id('resp_'), itemId: this.id('item_') };
    this.#responses.set(response.id, ids);
    const item: StoredItem = { id: ids.itemId, kind: 'assistant', response, status: 'in_progress' };
    const previous = this.remember(item);
    const where = {
      response_id: ids.responseId,
      item_id: ids.itemId,
      output_index: OUTPUT_INDEX,
      content_index: CONTENT_INDEX,
    };
    this.send({
      type: 'response.created',
      event_id: this.id('event_'),
      response: this.#responseJson(ids, 'in_progress', []),
    });
    const added = { ...this.itemJson(item), content: [] };
    this.send({
      type: 'response.output_item.added',
      event_id: this.id('event_'),
      response_id: ids.responseId,
      output_index: OUTPUT_INDEX,
      item: added,
    });
    this.send({
      type: 'conversation.item.added',
      event_id: this.id('event_'),
      previous_item_id: previous,
      item: added,
    });
    this.send({
      type: 'response.content_part.added',
      event_id: this.id('event_'),
      ...where,
      part: { type: 'audio', transcript: '' },
    });
    // The whole text at once: the agent knows what it will say before it says it.
    this.send({
      type: 'response.output_audio_transcript.delta',
      event_id: this.id('event_'),
      ...where,
      delta: response.text,
    });
  }

  audio(response: SpeechResponse, chunk: AudioChunk): void {
    const ids = this.#responses.get(response.id);
    if (!ids) return;
    // Built by hand: a delta every 60 ms, its ids and base64 need no escaping.
    this.#host.sendText(
      `{"type":"response.output_audio.delta","event_id":"${this.id('event_')}","response_id":"${ids.responseId}","item_id":"${ids.itemId}","output_index":${OUTPUT_INDEX},"content_index":${CONTENT_INDEX},"delta":"${chunk.base64()}"}`,
    );
  }

  finish(response: SpeechResponse, status: 'completed' | 'cancelled', reason?: string): void {
    const ids = this.#responses.get(response.id);
    if (!ids) return;
    this.#responses.delete(response.id);
    const stored = this.items.get(ids.itemId);
    if (stored?.kind === 'assistant') stored.status = status === 'completed' ? 'completed' : 'incomplete';
    const where = {
      response_id: ids.responseId,
      item_id: ids.itemId,
      output_index: OUTPUT_INDEX,
      content_index: CONTENT_INDEX,
    };
    // What was said: all of it, or the words spoken before the interruption.
    const transcript = response.turn.text;
    this.send({ type: 'response.output_audio.done', event_id: this.id('event_'), ...where });
    this.send({
      type: 'response.output_audio_transcript.done',
      event_id: this.id('event_'),
      ...where,
      transcript,
    });
    this.send({
      type: 'response.content_part.done',
      event_id: this.id('event_'),
      ...where,
      part: { type: 'audio', transcript },
    });
    const item = stored
      ? this.itemJson(stored)
      : { id: ids.itemId, type: 'message', role: 'assistant', status: 'incomplete', content: [] };
    this.send({
      type: 'response.output_item.done',
      event_id: this.id('event_'),
      response_id: ids.responseId,
      output_index: OUTPUT_INDEX,
      item,
    });
    this.send({ type: 'conversation.item.done', event_id: this.id('event_'), item });
    this.send({
      type: 'response.done',
      event_id: this.id('event_'),
      response: this.#responseJson(ids, status, [item], reason ? { type: 'cancelled', reason } : null),
    });
  }

  #responseJson(
    ids: ResponseIds,
    status: string,
    output: unknown[],
    statusDetails: unknown = null,
  ): Record<string, unknown> {
    const zero = { cached_tokens: 0, text_tokens: 0, audio_tokens: 0 };
    return {
      object: 'realtime.response',
      id: ids.responseId,
      status,
      status_details: statusDetails,
      output,
      conversation_id: this.#conversationId(),
      output_modalities: ['audio'],
      max_output_tokens: 'inf',
      audio: { output: { format: this.#config().outputFormat, voice: this.#config().voice } },
      usage:
        status === 'in_progress'
          ? null
          : {
              total_tokens: 0,
              input_tokens: 0,
              output_tokens: 0,
              input_token_details: zero,
              output_token_details: { text_tokens: 0, audio_tokens: 0 },
            },
      metadata: null,
    };
  }

  itemJson(item: StoredItem): Record<string, unknown> {
    const base = { id: item.id, object: 'realtime.item', type: 'message' };
    switch (item.kind) {
      case 'assistant':
        return {
          ...base,
          status: item.status,
          role: 'assistant',
          content: [{ type: 'output_audio', transcript: item.response.turn.text }],
        };
      case 'user-audio':
        return {
          ...base,
          status: 'completed',
          role: 'user',
          content: [{ type: 'input_audio', transcript: item.transcript }],
        };
      case 'client':
        return { status: 'completed', ...item.item, object: 'realtime.item' };
    }
  }

  /** Add an item at the end of the conversation; returns the id of the one before it. */
  remember(item: StoredItem): string | null {
    const previous = this.#lastItemId;
    this.items.set(item.id, item);
    this.#lastItemId = item.id;
    while (this.items.size > MAX_ITEMS) this.items.delete(this.items.keys().next().value!);
    return previous;
  }

  /** `{ type: 'error', error: { type, code, message, param, event_id } }`; the socket stays open. */
  error(type: string, code: string, message: string, param: string | null, eventId: string | null): void {
    if (!this.#host.allowError()) return;
    this.send({
      type: 'error',
      event_id: this.id('event_'),
      error: { type, code, message, param, event_id: eventId },
    });
  }

  send(event: Record<string, unknown>): void {
    this.#host.sendText(JSON.stringify(event));
  }

  /** Ids like the service's (`event_…`, `item_…`, `resp_…`): unique per connection, cheap to make. */
  id(prefix: string): string {
    return `${prefix}${this.#idPrefix}${(this.#nextId++).toString(36)}`;
  }
}
