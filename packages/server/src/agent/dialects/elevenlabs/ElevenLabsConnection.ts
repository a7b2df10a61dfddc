/**
 * One ElevenLabs Agents connection to the local agent: the client's
 * `conversation_initiation_client_data` (its overrides), `conversation_initiation_metadata` as
 * the server's first message, audio both ways as base64 PCM (or μ-law) in JSON, `ping`s the
 * client answers with `pong`, and the brain's outputs as the events `@elevenlabs/client` handles.
 * See docs/providers.md, "ElevenLabs Agents".
 */
import { decodeBase64 } from '@voicewire/core';
import { availableVoices } from '../../../audio/index.ts';
import type { ElevenLabsFormat } from '../../context.ts';
import type { AgentErrorKind, DialectConnection, DialectHost } from '../../dialect.ts';
import { closeCodeForError } from '../../faults.ts';
import type { SpeechResponse } from '../../response.ts';
import type { AudioChunk, SpeechOutput } from '../../speech.ts';
import { ELEVENLABS_GARBAGE_FRAMES } from './garbage.ts';
import { openConnection } from './handshake.ts';

/** After `end_call`, how long the client has to close before the agent does. */
const END_CALL_GRACE_MS = 1_000;
/** How long the agent waits for the client's overrides before starting with its own settings. */
const INITIATION_WAIT_MS = 2_000;
/**
 * A client that has answered none of this many pings, for this many ping intervals (30 s at the
 * default 2 s), is gone: the call is dropped.
 */
const PONG_TIMEOUT_PINGS = 10;
const PONG_TIMEOUT_INTERVALS = 15;

/** The SDK's messages the agent takes without answering. */
const QUIET_TYPES: ReadonlySet<string> = new Set([
  'user_activity',
  'contextual_update',
  'feedback',
  'client_tool_result',
  'mcp_tool_approval_result',
]);

interface Overrides {
  firstMessage?: string;
  voiceId?: string;
}

export class ElevenLabsConnection implements DialectConnection {
  readonly garbage = ELEVENLABS_GARBAGE_FRAMES;
  readonly #host: DialectHost;
  #phase: 'initiating' | 'live' | 'refused' = 'initiating';
  #agentId = '';
  #inputFormat: ElevenLabsFormat = 'pcm_16000';
  #outputFormat: ElevenLabsFormat = 'pcm_16000';
  #opened: Extract<ReturnType<typeof openConnection>, { ok: true }> | undefined;
  #cancelWait: (() => void) | undefined;
  /** Conversation events (transcripts, responses) are numbered; the audio of a response carries its number. */
  #eventId = 0;
  readonly #responseEvents = new Map<number, number>();
  #pingId = 0;
  readonly #pingsSent = new Map<number, number>();
  #pongs = 0;
  /** The last pong, or the start of the call. */
  #lastPongAt = 0;
  #pingMs: number | null = null;

  constructor(host: DialectHost) {
    this.#host = host;
  }

  opened(): void {
    const host = this.#host;
    const opened = openConnection(host);
    if (!opened.ok) {
      this.#phase = 'refused';
      host.setSummary(`refused: ${opened.reason}`);
      host.close(opened.closeCode, opened.reason);
      return;
    }
    this.#opened = opened;
    this.#agentId = opened.agentId;
    this.#inputFormat = opened.inputFormat;
    this.#outputFormat = opened.outputFormat;
    // The SDK sends its overrides as soon as the socket opens; a client that sends none is
    // served with the agent's own settings.
    this.#cancelWait = host.later(INITIATION_WAIT_MS, () => this.#begin({}));
  }

  receiveBinary(): void {
    this.#error('invalid', 'Binary frames are not part of the protocol: send JSON text messages.');
  }

  receiveText(text: string): void {
    if (this.#phase === 'refused') return;
    let message: Record<string, unknown>;
    try {
      const parsed = JSON.parse(text) as unknown;
      if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
        throw new Error('not an object');
      message = parsed as Record<string, unknown>;
    } catch {
      this.#error('invalid', 'Invalid message: every message must be one JSON object.');
      return;
    }
    if (this.#phase === 'initiating') {
      if (message.type === 'conversation_initiation_client_data') {
        this.#begin(readOverrides(message, (problem) => this.#error('invalid', problem)));
        return;
      }
      this.#begin({});
    }
    this.#onLiveMessage(message);
  }

  #begin(overrides: Overrides): void {
    if (this.#phase !== 'initiating' || !this.#opened) return;
    this.#phase = 'live';
    this.#cancelWait?.();
    const host = this.#host;
    const input = formatOf(this.#inputFormat);
    const agentFormat = formatOf(this.#outputFormat);
    const output: SpeechOutput = {
      format: agentFormat.encoding === 'mulaw' ? 'mulaw' : 'pcm16',
      sampleRate: agentFormat.sampleRate,
      voice: overrides.voiceId,
    };
    const conversationId = host.start({
      agentId: this.#agentId,
      input: { encoding: input.encoding, sampleRate: input.sampleRate },
      output,
      query: this.#opened.query,
      summary: [
        `in=${this.#inputFormat} out=${this.#outputFormat}`,
        ...(this.#opened.anonymous ? ['anonymous'] : []),
      ].join(' '),
    });
    this.#send({
      type: 'conversation_initiation_metadata',
      conversation_initiation_metadata_event: {
        conversation_id: conversationId,
        agent_output_audio_format: this.#outputFormat,
        user_input_audio_format: this.#inputFormat,
      },
    });
    this.#lastPongAt = performance.now();
    this.#schedulePing();
    host.speakGreeting((overrides.firstMessage ?? host.ctx.greeting).trim());
  }

  #onLiveMessage(message: Record<string, unknown>): void {
    const host = this.#host;
    // Audio is the one message without a type.
    if ('user_audio_chunk' in message) {
      const data = message.user_audio_chunk;
      if (typeof data !== 'string') {
        this.#error('invalid', 'Invalid message: user_audio_chunk must be a base64 string.');
        return;
      }
      if (data === '') return;
      let bytes: Uint8Array;
      try {
        bytes = decodeBase64(data);
      } catch (error) {
        this.#error(
          'invalid',
          `Invalid message: user_audio_chunk is not valid base64 (${errorText(error)}).`,
        );
        return;
      }
      const problem = host.audioIn(bytes);
      if (problem !== undefined) this.#error('invalid', `Invalid audio: user_audio_chunk ${problem}.`);
      return;
    }
    const type = message.type;
    if (typeof type !== 'string') {
      this.#error('invalid', 'Invalid message: it has no type.');
      return;
    }
    switch (type) {
      case 'pong': {
        const sentAt =
          typeof message.event_id === 'number' ? this.#pingsSent.get(message.event_id) : undefined;
        if (sentAt === undefined) return;
        this.#pingsSent.delete(message.event_id as number);
        this.#pongs++;
        this.#lastPongAt = performance.now();
        this.#pingMs = Math.round(this.#lastPongAt - sentAt);
        return;
      }
      case 'user_message': {
        if (typeof message.text !== 'string') {
          this.#error('invalid', 'Invalid message: user_message.text must be a string.');
          return;
        }
        host.textInput(message.text, true);
        return;
      }
      case 'conversation_initiation_client_data':
        this.#error(
          'invalid',
          'The conversation has already started: send conversation_initiation_client_data first.',
        );
        return;
      default:
        if (!QUIET_TYPES.has(type)) host.logUnknownType(type);
    }
  }

  #schedulePing(): void {
    this.#host.later(this.#host.ctx.elevenlabs.pingIntervalMs, () => {
      const now = performance.now();
      // Since the last pong (or the start of the call).
      const silentFor = now - this.#lastPongAt;
      const interval = this.#host.ctx.elevenlabs.pingIntervalMs;
      if (this.#pingsSent.size >= PONG_TIMEOUT_PINGS && silentFor >= PONG_TIMEOUT_INTERVALS * interval) {
        this.#host.log(
          `voicewire-agent: ${this.#host.init.remote} answered no ping for ${Math.round(silentFor / 1000)} s: dropping the call`,
        );
        this.#host.close(1008, 'no pong: the client stopped answering pings');
        return;
      }
      const eventId = ++this.#pingId;
      this.#pingsSent.set(eventId, now);
      // Only the latest pings are worth remembering.
      if (this.#pingsSent.size > PONG_TIMEOUT_PINGS * 2)
        this.#pingsSent.delete(this.#pingsSent.keys().next().value!);
      this.#send({ type: 'ping', ping_event: { event_id: eventId, ping_ms: this.#pingMs } });
      this.#schedulePing();
    });
  }

  // -------------------------------------------------------------------------------------------
  // The brain's outputs

  speechStarted(): void {}

  userTurn(turn: { description: string }): void {
    this.#send({
      type: 'user_transcript',
      user_transcription_event: { user_transcript: turn.description, event_id: ++this.#eventId },
    });
  }

  responseStarted(response: SpeechResponse): void {
    const eventId = ++this.#eventId;
    this.#responseEvents.set(response.id, eventId);
    this.#send({
      type: 'agent_response',
      agent_response_event: { agent_response: response.text, event_id: eventId },
    });
  }

  audio(response: SpeechResponse, chunk: AudioChunk): void {
    const eventId = this.#responseEvents.get(response.id);
    if (eventId === undefined) return;
    this.#host.sendText(
      `{"type":"audio","audio_event":{"audio_base_64":"${chunk.base64()}","event_id":${eventId}}}`,
    );
  }

  responseDone(response: SpeechResponse): void {
    this.#responseEvents.delete(response.id);
  }

  responseInterrupted(response: SpeechResponse): void {
    const eventId = this.#responseEvents.get(response.id);
    this.#responseEvents.delete(response.id);
    if (eventId === undefined) return;
    this.#send({ type: 'interruption', interruption_event: { event_id: eventId } });
    // What the agent actually said, for transcripts that showed the whole response.
    this.#send({
      type: 'agent_response_correction',
      agent_response_correction_event: {
        original_agent_response: response.text,
        corrected_agent_response: response.turn.text,
        event_id: eventId,
      },
    });
  }

  greetingEnded(): void {}

  /**
   * As the service ends a call: the agent's `end_call` system tool, which the SDK answers by
   * shutting its microphone and closing; a client that does not is closed (1000) a second later.
   */
  hangingUp(): number {
    this.#send({
      type: 'agent_tool_response',
      agent_tool_response: {
        tool_name: 'end_call',
        tool_call_id: `end_call_${this.#eventId + 1}`,
        tool_type: 'system',
        is_error: false,
        is_called: true,
        event_id: ++this.#eventId,
      },
    });
    return END_CALL_GRACE_MS;
  }

  error(kind: AgentErrorKind, message: string): void {
    this.#error(kind, message);
  }

  faultError(code: number, message: string): void {
    const closeCode = closeCodeForError(code);
    this.#sendError(closeCode === 1013 ? 1008 : closeCode, message, 'unknown', { code });
  }

  describe(): string {
    return this.#phase === 'live' ? `pings=${this.#pingId} pongs=${this.#pongs}` : '';
  }

  // -------------------------------------------------------------------------------------------

  #error(kind: AgentErrorKind, message: string): void {
    if (kind === 'internal') this.#sendError(1011, message, 'unknown');
    else this.#sendError(1008, message, 'invalid_message');
  }

  /** `{ type: 'error', error_event: { code, message, error_type } }`: codes are close codes. */
  #sendError(code: number, message: string, errorType: string, details?: Record<string, unknown>): void {
    if (!this.#host.allowError()) return;
    this.#send({
      type: 'error',
      error_event: { code, message, error_type: errorType, ...(details ? { details } : {}) },
    });
  }

  #send(message: Record<string, unknown>): void {
    this.#host.sendText(JSON.stringify(message));
  }
}

/** `pcm_16000` → linear16 at 16000 Hz; `ulaw_8000` → μ-law at 8000 Hz. */
function formatOf(format: ElevenLabsFormat): { encoding: 'linear16' | 'mulaw'; sampleRate: number } {
  const [codec, rate] = format.split('_');
  return { encoding: codec === 'ulaw' ? 'mulaw' : 'linear16', sampleRate: Number(rate) };
}

/**
 * The overrides the agent honours: `agent.first_message` (the greeting), `tts.voice_id` (a mespeak
 * voice name such as `en/en-rp`; other ids keep the default voice). `agent.prompt.prompt` and
 * `agent.language` are accepted; the agent has no model to give them to.
 */
function readOverrides(message: Record<string, unknown>, onProblem: (problem: string) => void): Overrides {
  const config = message.conversation_config_override;
  if (config === undefined) return {};
  if (!isObject(config)) {
    onProblem('Invalid override: conversation_config_override must be an object.');
    return {};
  }
  const overrides: Overrides = {};
  const agent = config.agent;
  if (isObject(agent) && agent.first_message !== undefined && agent.first_message !== null) {
    if (typeof agent.first_message === 'string') overrides.firstMessage = agent.first_message;
    else onProblem('Invalid override: agent.first_message must be a string.');
  }
  const tts = config.tts;
  if (isObject(tts) && typeof tts.voice_id === 'string' && availableVoices().includes(tts.voice_id)) {
    overrides.voiceId = tts.voice_id;
  }
  return overrides;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
