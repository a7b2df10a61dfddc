/**
 * One Hume EVI chat on the local agent: `chat_metadata` first, the client's `session_settings`,
 * `audio_input` (linear16 at the settings' rate, or a recorder's container), `user_input`
 * text and `assistant_input`, and the brain's turns as the messages `hume`'s SDK validates, each
 * with every field its schema requires: `user_message`, `assistant_message`, `audio_output` (a
 * whole WAV file per chunk, 48 kHz 16-bit mono), `assistant_end`, `user_interruption`, `error`.
 * See docs/providers.md, "Hume EVI".
 */
import { randomUUID } from 'node:crypto';
import { decodeBase64 } from '@voicewire/core';
import { wavFile } from '../../../audio/index.ts';
import type { AgentErrorKind, DialectConnection, DialectHost } from '../../dialect.ts';
import { closeCodeForError } from '../../faults.ts';
import type { SpeechResponse } from '../../response.ts';
import type { AudioChunk, SpeechOutput } from '../../speech.ts';
import { mespeakVoiceFor } from '../../voices.ts';
import { HUME_GARBAGE_FRAMES } from './garbage.ts';
import { openChat } from './handshake.ts';
import { clip, type HumeSettings, isObject, readSettings } from './settings.ts';

/** EVI's voice: WAV, 48 kHz (the SDK's documentation of `audio_output`). */
const OUTPUT_RATE_HZ = 48_000;
/** The client's first message (usually its `session_settings`) is waited for this long before the greeting. */
const GREETING_WAIT_MS = 1_000;
const MAX_QUEUED = 8;
/** The client messages taken without an answer. */
const QUIET_TYPES: ReadonlySet<string> = new Set(['tool_response', 'tool_error']);

export class HumeConnection implements DialectConnection {
  readonly garbage = HUME_GARBAGE_FRAMES;
  readonly #host: DialectHost;
  #phase: 'opening' | 'live' | 'refused' = 'opening';
  #settings: HumeSettings = {};
  #inputLabel = 'container';
  #voiceId: string | undefined;
  #verbose = false;
  #startedAt = 0;
  #greetPending = false;
  #cancelGreetingWait: (() => void) | undefined;
  #paused = false;
  #missedTurn = false;
  /** Per response: its message id, how many audio chunks went out, whether it was injected text. */
  readonly #responses = new Map<number, { id: string; index: number }>();
  #injected = false;
  readonly #queued: string[] = [];
  #counts = { audio: 0, texts: 0 };

  constructor(host: DialectHost) {
    this.#host = host;
  }

  opened(): void {
    const host = this.#host;
    const chat = openChat(host);
    if (!chat.ok) {
      this.#phase = 'refused';
      host.setSummary(`refused: ${chat.slug}`);
      this.#send({ type: 'error', code: chat.code, slug: chat.slug, message: chat.message });
      host.close(chat.closeCode, chat.message);
      return;
    }
    this.#phase = 'live';
    this.#verbose = chat.verbose;
    this.#settings = chat.settings;
    this.#startedAt = performance.now();
    const groupId = host.start({
      agentId: chat.agentId,
      resumed: chat.resumed,
      conversationId: randomUUID(),
      input: this.#inputOf(chat.settings),
      output: this.#outputOf(chat.settings.voiceId),
      query: chat.query,
      // The input format is in describe(): the client's session_settings usually change it.
      summary: [...(chat.anonymous ? ['anonymous'] : []), ...(this.#verbose ? ['verbose'] : [])].join(' '),
    });
    this.#send({
      type: 'chat_metadata',
      chat_group_id: groupId,
      chat_id: randomUUID(),
      request_id: randomUUID(),
    });
    if (chat.resumed) {
      host.speakGreeting('');
      return;
    }
    // The greeting waits for the client's settings (its voice), which clients send at once.
    this.#greetPending = true;
    this.#cancelGreetingWait = host.later(GREETING_WAIT_MS, () => this.#greet());
  }

  #greet(): void {
    if (!this.#greetPending) return;
    this.#greetPending = false;
    this.#cancelGreetingWait?.();
    this.#host.speakGreeting(this.#host.ctx.greeting.trim());
  }

  #inputOf(settings: HumeSettings): { encoding: 'linear16' | 'media-container'; sampleRate?: number } {
    if (settings.sampleRate === undefined) return { encoding: 'media-container' };
    this.#inputLabel = `linear16@${settings.sampleRate}`;
    return { encoding: 'linear16', sampleRate: settings.sampleRate };
  }

  #outputOf(voiceId: string | undefined): SpeechOutput {
    this.#voiceId = voiceId;
    const voice = mespeakVoiceFor(voiceId);
    return { format: 'pcm16', sampleRate: OUTPUT_RATE_HZ, ...(voice ? { voice } : {}) };
  }

  receiveBinary(): void {
    this.#error('invalid_message', 'Binary frames are not part of the protocol: send JSON text messages.');
  }

  receiveText(text: string): void {
    if (this.#phase !== 'live') return;
    let message: unknown;
    try {
      message = JSON.parse(text);
    } catch {
      this.#error('invalid_message', 'Invalid message: every message must be one JSON object.');
      this.#greet();
      return;
    }
    if (!isObject(message) || typeof message.type !== 'string') {
      this.#error('invalid_message', 'Invalid message: a JSON object with a string "type".');
      this.#greet();
      return;
    }
    this.#onMessage(message.type, message);
    this.#greet();
  }

  #onMessage(type: string, message: Record<string, unknown>): void {
    const host = this.#host;
    switch (type) {
      case 'audio_input': {
        if (typeof message.data !== 'string') {
          this.#error('invalid_audio', 'Invalid audio_input: data must be a base64 string.');
          return;
        }
        if (message.data === '') return;
        let bytes: Uint8Array;
        try {
          bytes = decodeBase64(message.data);
        } catch (error) {
          this.#error(
            'invalid_audio',
            `Invalid audio_input: data is not valid base64 (${errorText(error)}).`,
          );
          return;
        }
        this.#counts.audio++;
        const problem = host.audioIn(bytes);
        if (problem !== undefined) this.#error('invalid_audio', `Invalid audio_input: the audio ${problem}.`);
        return;
      }
      case 'session_settings':
        this.#applySettings(message);
        return;
      case 'user_input': {
        if (typeof message.text !== 'string' || message.text.trim() === '') {
          this.#error('invalid_message', 'Invalid user_input: text must be a non-empty string.');
          return;
        }
        this.#counts.texts++;
        const now = this.#chatMs();
        this.#userMessage(message.text, true, { begin: now, end: now });
        if (this.#paused) this.#missedTurn = true;
        host.textInput(message.text, !this.#paused);
        return;
      }
      case 'assistant_input': {
        if (typeof message.text !== 'string' || message.text.trim() === '') {
          this.#error('invalid_message', 'Invalid assistant_input: text must be a non-empty string.');
          return;
        }
        this.#counts.texts++;
        this.#injected = true;
        if (host.say(message.text, false) === 'busy') {
          if (this.#queued.length < MAX_QUEUED) this.#queued.push(message.text);
          else this.#error('too_many_inputs', 'Too many assistant_input messages are waiting.');
        }
        return;
      }
      case 'pause_assistant_message':
        this.#paused = true;
        host.setTurnPolicy({ respond: false });
        return;
      case 'resume_assistant_message': {
        if (!this.#paused) return;
        this.#paused = false;
        host.setTurnPolicy({ respond: true });
        // What the user said while the assistant was paused is answered now.
        if (this.#missedTurn) host.requestResponse();
        this.#missedTurn = false;
        return;
      }
      default:
        if (QUIET_TYPES.has(type)) return;
        host.logUnknownType(type);
        this.#error('invalid_message', `Unknown message type "${clip(type)}".`);
    }
  }

  #applySettings(message: Record<string, unknown>): void {
    const host = this.#host;
    const read = readSettings(message);
    if (!read.ok) {
      this.#error('invalid_session_settings', read.message);
      return;
    }
    const next = read.settings;
    if (next.sampleRate !== undefined && next.sampleRate !== this.#settings.sampleRate) {
      const input = this.#inputOf(next);
      const problem = host.setInput(input.encoding, input.sampleRate);
      if (problem !== undefined) {
        this.#error('invalid_session_settings', `Invalid session settings: ${problem}.`);
        return;
      }
    }
    if (next.voiceId !== undefined && next.voiceId !== this.#voiceId)
      host.setOutput(this.#outputOf(next.voiceId));
    this.#settings = { ...this.#settings, ...next };
  }

  // -------------------------------------------------------------------------------------------
  // The brain's outputs

  speechStarted(): void {
    this.#queued.length = 0;
    // Interim transcripts (verbose_transcription): the user is heard before the turn ends.
    if (this.#verbose) this.#userMessage('…', false, { begin: this.#chatMs(), end: this.#chatMs() }, true);
  }

  userTurn(turn: { description: string; audioEndMs: number; speechSeconds: number }): void {
    const end = Math.round(turn.audioEndMs);
    this.#userMessage(turn.description, false, {
      begin: Math.max(0, end - Math.round(turn.speechSeconds * 1000)),
      end,
    });
    if (this.#paused) this.#missedTurn = true;
  }

  responseStarted(response: SpeechResponse): void {
    const id = randomUUID();
    this.#responses.set(response.id, { id, index: 0 });
    const fromText = this.#injected && response.kind === 'prompt';
    this.#injected = false;
    this.#send({
      type: 'assistant_message',
      id,
      message: { role: 'assistant', content: response.text },
      models: {},
      from_text: fromText,
      is_quick_response: false,
    });
  }

  audio(response: SpeechResponse, chunk: AudioChunk): void {
    const state = this.#responses.get(response.id);
    if (!state) return;
    // Every chunk is a WAV file of its own; the file's base64 is made once per cached chunk.
    const data = chunk.frame('hume-wav', (c) =>
      Buffer.from(wavFile(c.bytes, OUTPUT_RATE_HZ)).toString('base64'),
    );
    this.#host.sendText(
      `{"type":"audio_output","id":"${state.id}","index":${state.index++},"data":"${data}"${this.#customSession()}}`,
    );
  }

  responseDone(response: SpeechResponse): void {
    this.#responses.delete(response.id);
    this.#send({ type: 'assistant_end' });
    const next = this.#queued.shift();
    if (next !== undefined) {
      this.#injected = true;
      this.#host.say(next, false);
    }
  }

  /** Speech over the assistant: `user_interruption`; a response the client replaced just ends. */
  responseInterrupted(response: SpeechResponse, cause: 'speech' | 'client'): void {
    this.#responses.delete(response.id);
    if (cause === 'speech') this.#send({ type: 'user_interruption', time: Date.now() });
    else this.#send({ type: 'assistant_end' });
  }

  greetingEnded(): void {}

  hangingUp(): number {
    return 0;
  }

  error(kind: AgentErrorKind, message: string): void {
    if (kind === 'internal') this.#error('internal_error', message, 1011);
    else this.#error('invalid_message', message);
  }

  faultError(code: number, message: string): void {
    const close = closeCodeForError(code);
    const slug = code === 4500 ? 'internal_error' : code === 4429 ? 'too_many_chats' : 'bad_request';
    this.#send({ type: 'error', code: String(close), slug, message });
  }

  describe(): string {
    if (this.#phase !== 'live') return '';
    return [
      `in=${this.#inputLabel}`,
      `audio_in=${this.#counts.audio}`,
      ...(this.#counts.texts ? [`texts=${this.#counts.texts}`] : []),
      ...(this.#voiceId ? [`voice=${clip(this.#voiceId)}`] : []),
    ].join(' ');
  }

  closed(): void {
    this.#greetPending = false;
  }

  // -------------------------------------------------------------------------------------------

  /** A `user_message` with every field the SDK's schema requires. */
  #userMessage(
    content: string,
    fromText: boolean,
    time: { begin: number; end: number },
    interim = false,
  ): void {
    this.#send({
      type: 'user_message',
      message: { role: 'user', content },
      models: {},
      from_text: fromText,
      interim,
      time,
    });
  }

  /** Milliseconds since the chat started. */
  #chatMs(): number {
    return Math.round(performance.now() - this.#startedAt);
  }

  /** `{ type: 'error', code, slug, message }`; the socket stays open. Codes are close codes. */
  #error(slug: string, message: string, code = 1008): void {
    if (!this.#host.allowError()) return;
    this.#send({ type: 'error', code: String(code), slug, message });
  }

  #customSession(): string {
    const id = this.#settings.customSessionId;
    return id === undefined ? '' : `,"custom_session_id":${JSON.stringify(id)}`;
  }

  #send(message: Record<string, unknown>): void {
    const id = this.#settings.customSessionId;
    this.#host.sendText(JSON.stringify(id === undefined ? message : { ...message, custom_session_id: id }));
  }
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
