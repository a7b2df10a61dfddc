/**
 * One Gemini Live connection to the local agent: the client's `setup` answered with
 * `setupComplete`, `realtimeInput` audio (16-bit PCM at the rate its `mimeType` names), text and
 * activity signals into the brain, and the brain's speech out as `serverContent` messages:
 * `modelTurn` audio (PCM16 at 24 kHz), transcriptions in pieces, `interrupted`,
 * `generationComplete`, `turnComplete`, plus `sessionResumptionUpdate` and `goAway`. Server
 * messages are JSON in binary frames, as the service sends them. The protocol has no error
 * message: a bad message closes the socket with a code and a reason, as the service does.
 * See docs/providers.md, "Gemini Live".
 */
import { decodeBase64 } from '@voicewire/core';
import type { GeminiGreeting, SessionQuery } from '../../context.ts';
import type { ConversationRecord } from '../../conversationStore.ts';
import type { CredentialCheck } from '../../credentials.ts';
import type { AgentErrorKind, DialectConnection, DialectHost } from '../../dialect.ts';
import type { SpeechResponse } from '../../response.ts';
import type { AudioChunk } from '../../speech.ts';
import { mespeakVoiceFor } from '../../voices.ts';
import { GEMINI_GARBAGE_FRAMES } from './garbage.ts';
import { INTERNAL, INVALID_ARGUMENT, openConnection, POLICY_VIOLATION } from './handshake.ts';
import { clip, type GeminiSetup, isObject, pcmRateOf, readSetup } from './setup.ts';

/** The rate the model speaks at, as the service's `inlineData.mimeType` says. */
const OUTPUT_RATE_HZ = 24_000;
const OUTPUT_MIME = `audio/pcm;rate=${OUTPUT_RATE_HZ}`;
const AUDIO_FRAME_HEAD = `{"serverContent":{"modelTurn":{"parts":[{"inlineData":{"mimeType":"${OUTPUT_MIME}","data":"`;
const AUDIO_FRAME_TAIL = '"}}]}}}';
const MIN_INPUT_RATE_HZ = 8_000;
const MAX_INPUT_RATE_HZ = 96_000;
/** A client that has not sent its `setup` by then is closed. */
const SETUP_WAIT_MS = 15_000;
/** `goAway` comes this long before a connection's planned end (half its life when shorter). */
const GO_AWAY_LEAD_MS = 10_000;
/** The messages a client may send; anything else is an unknown field, as the service's parser says. */
const CLIENT_FIELDS: ReadonlySet<string> = new Set([
  'setup',
  'clientContent',
  'realtimeInput',
  'toolResponse',
  'contextUpdate',
]);

export class GeminiConnection implements DialectConnection {
  readonly garbage = GEMINI_GARBAGE_FRAMES;
  readonly #host: DialectHost;
  #phase: 'awaiting-setup' | 'live' | 'closed' = 'awaiting-setup';
  #credential: Extract<CredentialCheck, { ok: true }> | undefined;
  #version = 'v1';
  #greeting: GeminiGreeting = 'auto';
  #query: SessionQuery = { faults: [] };
  #setup: GeminiSetup | undefined;
  #cancelSetupWait: (() => void) | undefined;
  #conversationId = '';
  #inputRate = 16_000;
  #handles = 0;
  #goAwaySent = false;
  /** Per response being spoken: how much of its text the output transcription has given. */
  readonly #transcribed = new Map<number, number>();
  #counts = { audio: 0, text: 0, activity: 0 };

  constructor(host: DialectHost) {
    this.#host = host;
  }

  opened(): void {
    const host = this.#host;
    const opened = openConnection(host);
    if (!opened.ok) {
      this.#refuse(opened.closeCode, opened.reason);
      return;
    }
    this.#credential = opened.credential;
    this.#version = opened.version;
    this.#greeting = opened.greeting;
    this.#query = opened.query;
    this.#cancelSetupWait = host.later(SETUP_WAIT_MS, () =>
      this.#refuse(INVALID_ARGUMENT, `No setup message within ${SETUP_WAIT_MS / 1000} s.`),
    );
  }

  receiveText(text: string): void {
    this.#receive(text);
  }

  /** The service's own messages are JSON in binary frames; a client's may be too. */
  receiveBinary(bytes: Buffer): void {
    this.#receive(bytes.toString('utf8'));
  }

  #receive(text: string): void {
    if (this.#phase === 'closed') return;
    let message: unknown;
    try {
      message = JSON.parse(text);
    } catch {
      this.#invalid('Invalid JSON payload received: every message must be one JSON object.');
      return;
    }
    if (!isObject(message)) {
      this.#invalid('Invalid JSON payload received: the message must be a JSON object.');
      return;
    }
    const unknown = Object.keys(message).find((key) => !CLIENT_FIELDS.has(key));
    if (unknown !== undefined) {
      this.#host.logUnknownType(unknown);
      this.#invalid(`Invalid JSON payload received. Unknown name "${clip(unknown)}": Cannot find field.`);
      return;
    }
    if (this.#phase === 'awaiting-setup') {
      if (!('setup' in message)) {
        this.#invalid('The first message must be a setup message.');
        return;
      }
      this.#begin(message.setup);
      return;
    }
    if ('setup' in message) {
      this.#invalid('The session is already set up: send setup once, as the first message.');
      return;
    }
    if (message.realtimeInput !== undefined && !this.#realtimeInput(message.realtimeInput)) return;
    if (message.clientContent !== undefined && !this.#clientContent(message.clientContent)) return;
    // toolResponse and contextUpdate: the agent calls no tools and has no model to instruct.
  }

  // -------------------------------------------------------------------------------------------
  // Setup

  #begin(value: unknown): void {
    const host = this.#host;
    const { ctx } = host;
    this.#cancelSetupWait?.();
    const read = readSetup(value);
    if (!read.ok) {
      this.#refuse(INVALID_ARGUMENT, read.message);
      return;
    }
    const setup = read.setup;
    const credential = this.#credential!;
    const notFound = `models/${clip(setup.model)} is not found for API version ${this.#version}, or is not supported for bidiGenerateContent.`;
    if (!ctx.servesAgent(setup.model)) {
      this.#refuse(POLICY_VIOLATION, notFound);
      return;
    }
    if (!credential.allows(setup.model)) {
      this.#refuse(POLICY_VIOLATION, `This credential does not open models/${clip(setup.model)}.`);
      return;
    }
    let resumed: ConversationRecord | undefined;
    const handle = setup.resumption?.handle;
    if (handle !== undefined) {
      const id = handle.slice(0, handle.lastIndexOf('.'));
      resumed = id === '' ? undefined : ctx.conversations.get(id);
      if (!resumed || resumed.agentId !== setup.model) {
        this.#refuse(POLICY_VIOLATION, 'The session resumption handle is invalid or has expired.');
        return;
      }
    }
    if (host.atCapacity()) {
      this.#refuse(
        INTERNAL,
        `Resource has been exhausted: this local agent allows ${ctx.maxConnections} sessions at once.`,
      );
      return;
    }
    // A token's uses count new sessions; resuming one does not use it up.
    if (!resumed && !credential.spend()) {
      this.#refuse(POLICY_VIOLATION, 'The ephemeral token has no uses left: create a new one.');
      return;
    }
    this.#setup = setup;
    this.#phase = 'live';
    const voice = mespeakVoiceFor(setup.voiceName);
    this.#conversationId = host.start({
      agentId: setup.model,
      resumed,
      input: { encoding: 'linear16', sampleRate: this.#inputRate },
      output: { format: 'pcm16', sampleRate: OUTPUT_RATE_HZ, ...(voice ? { voice } : {}) },
      policy: {
        detectTurns: setup.detectActivity,
        respond: true,
        interrupt: setup.interrupt,
        silenceMs: setup.silenceMs ?? ctx.silenceMs,
      },
      query: this.#query,
      summary: [
        `voice=${setup.voiceName ?? 'default'}`,
        ...(setup.detectActivity ? [] : ['activity=manual']),
        ...(credential.anonymous ? ['anonymous'] : []),
      ].join(' '),
    });
    this.#send({ setupComplete: { sessionId: this.#conversationId } });
    this.#resumptionUpdate();
    this.#planEnd(credential.sessionEndsAt);
    if (resumed) host.speakGreeting('');
    else if (this.#greeting === 'auto') host.speakGreeting(ctx.greeting.trim());
  }

  /** The connection's planned end: the agent's `connectionLifetimeMs`, or the token's `expireTime`. */
  #planEnd(tokenEndsAt: number | undefined): void {
    const host = this.#host;
    const lifetime = host.ctx.gemini.connectionLifetimeMs;
    const ends = [
      ...(lifetime !== undefined ? [lifetime] : []),
      ...(tokenEndsAt !== undefined ? [tokenEndsAt - Date.now()] : []),
    ];
    if (ends.length === 0) return;
    const leftMs = Math.max(0, Math.min(...ends));
    const leadMs = Math.min(GO_AWAY_LEAD_MS, leftMs / 2);
    host.later(leftMs - leadMs, () => {
      this.#goAwaySent = true;
      this.#send({ goAway: { timeLeft: duration(leadMs) } });
    });
    host.later(leftMs, () => {
      this.#phase = 'closed';
      host.close(INTERNAL, 'Deadline expired before operation could complete.');
    });
  }

  // -------------------------------------------------------------------------------------------
  // Client messages

  /** Returns whether the call goes on. */
  #realtimeInput(input: unknown): boolean {
    const host = this.#host;
    if (!isObject(input)) return this.#invalid('realtimeInput must be an object.');
    if (input.audio !== undefined && !this.#audio(input.audio, 'realtimeInput.audio')) return false;
    if (input.mediaChunks !== undefined) {
      if (!Array.isArray(input.mediaChunks))
        return this.#invalid('realtimeInput.mediaChunks must be a list.');
      for (const chunk of input.mediaChunks) {
        // Images (video frames) are taken and not looked at: the agent does not see.
        if (isObject(chunk) && typeof chunk.mimeType === 'string' && !chunk.mimeType.startsWith('audio/'))
          continue;
        if (!this.#audio(chunk, 'realtimeInput.mediaChunks[]')) return false;
      }
    }
    if (input.text !== undefined) {
      if (typeof input.text !== 'string') return this.#invalid('realtimeInput.text must be a string.');
      this.#counts.text++;
      host.textInput(input.text, true);
    }
    if (input.activityStart !== undefined && !this.#activityStart()) return false;
    if (input.activityEnd !== undefined && !this.#activityEnd()) return false;
    // The microphone was turned off: a turn in progress ends now.
    if (input.audioStreamEnd === true && this.#setup!.detectActivity) host.commitInput();
    return true;
  }

  #audio(blob: unknown, where: string): boolean {
    const host = this.#host;
    if (!isObject(blob) || typeof blob.data !== 'string')
      return this.#invalid(`${where} must be a blob { data, mimeType } with base64 data.`);
    const rate = pcmRateOf(blob.mimeType);
    if (rate === undefined)
      return this.#invalid(
        `${where}.mimeType "${clip(String(blob.mimeType))}": the local agent takes 16-bit PCM (audio/pcm;rate=16000).`,
      );
    if (rate < MIN_INPUT_RATE_HZ || rate > MAX_INPUT_RATE_HZ)
      return this.#invalid(`${where}.mimeType: rate ${rate} is outside 8000–96000 Hz.`);
    if (rate !== this.#inputRate) {
      const problem = host.setInput('linear16', rate);
      if (problem !== undefined) return this.#invalid(`${where}: ${problem}.`);
      this.#inputRate = rate;
    }
    if (blob.data === '') return true;
    let bytes: Uint8Array;
    try {
      bytes = decodeBase64(blob.data);
    } catch (error) {
      return this.#invalid(`${where}.data is not valid base64 (${errorText(error)}).`);
    }
    this.#counts.audio++;
    const problem = host.audioIn(bytes);
    return problem === undefined ? true : this.#invalid(`${where}: the audio ${problem}.`);
  }

  /** Push-to-talk: the user starts a turn (and cuts the agent off, unless `NO_INTERRUPTION`). */
  #activityStart(): boolean {
    const host = this.#host;
    if (this.#setup!.detectActivity)
      return this.#invalid('activityStart can only be sent when automatic activity detection is disabled.');
    this.#counts.activity++;
    if (this.#setup!.interrupt) host.cancelResponse();
    host.clearInput();
    return true;
  }

  #activityEnd(): boolean {
    const host = this.#host;
    if (this.#setup!.detectActivity)
      return this.#invalid('activityEnd can only be sent when automatic activity detection is disabled.');
    // An empty turn (no audio since activityStart) is not answered.
    if (host.commitInput() === undefined) host.requestResponse();
    return true;
  }

  /** Text turns: `turnComplete` asks for the answer; an empty complete turn asks the model to speak. */
  #clientContent(content: unknown): boolean {
    const host = this.#host;
    if (!isObject(content)) return this.#invalid('clientContent must be an object.');
    const turns = content.turns ?? [];
    if (!Array.isArray(turns)) return this.#invalid('clientContent.turns must be a list of contents.');
    const texts: string[] = [];
    for (const turn of turns) {
      if (!isObject(turn) || (turn.parts !== undefined && !Array.isArray(turn.parts)))
        return this.#invalid('clientContent.turns[] must be contents { role, parts: [...] }.');
      // Model turns are history the client restores; the agent answers the user's words.
      if (turn.role !== undefined && turn.role !== 'user') continue;
      for (const part of (turn.parts as unknown[] | undefined) ?? []) {
        if (isObject(part) && typeof part.text === 'string') texts.push(part.text);
      }
    }
    const complete = content.turnComplete === true;
    const text = texts.join(' ').trim();
    this.#counts.text += text === '' ? 0 : 1;
    if (text !== '') host.textInput(text, complete);
    else if (complete) host.requestResponse();
    return true;
  }

  // -------------------------------------------------------------------------------------------
  // The brain's outputs

  speechStarted(): void {}

  userTurn(turn: { description: string }): void {
    if (this.#setup?.inputTranscription) {
      this.#send({ serverContent: { inputTranscription: { text: turn.description, finished: true } } });
    }
  }

  responseStarted(response: SpeechResponse): void {
    this.#transcribed.set(response.id, 0);
  }

  audio(response: SpeechResponse, chunk: AudioChunk): void {
    this.#host.sendBinary(
      chunk.frame('gemini', (c) =>
        Buffer.from(`${AUDIO_FRAME_HEAD}${c.base64()}${AUDIO_FRAME_TAIL}`, 'utf8'),
      ),
    );
    // The words spoken in this chunk, as the service transcribes its speech while it plays.
    if (this.#setup?.outputTranscription) this.#transcribe(response, response.sentMs + chunk.ms, false);
  }

  responseDone(response: SpeechResponse): void {
    if (this.#setup?.outputTranscription) this.#transcribe(response, Number.POSITIVE_INFINITY, true);
    this.#transcribed.delete(response.id);
    this.#send({ serverContent: { generationComplete: true } });
    this.#send({ serverContent: { turnComplete: true } });
    this.#resumptionUpdate();
  }

  /** Speech over the agent (or the client's activityStart): `interrupted`, then the turn is complete. */
  responseInterrupted(response: SpeechResponse): void {
    this.#transcribed.delete(response.id);
    this.#send({ serverContent: { interrupted: true } });
    this.#send({ serverContent: { turnComplete: true } });
    this.#resumptionUpdate();
  }

  greetingEnded(): void {}

  hangingUp(): number {
    return 0;
  }

  /** Gemini has no error message: the service closes the socket, and so does the agent. */
  error(kind: AgentErrorKind, message: string): void {
    if (kind === 'internal') {
      this.#phase = 'closed';
      this.#host.close(INTERNAL, message);
    } else this.#invalid(message);
  }

  /** The agent closes the socket right after (the code matches the error); there is no message to send. */
  faultError(): void {}

  describe(): string {
    if (!this.#setup) return '';
    return [
      `in=audio/pcm;rate=${this.#inputRate} out=${OUTPUT_MIME}`,
      `audio=${this.#counts.audio}`,
      ...(this.#counts.text ? [`texts=${this.#counts.text}`] : []),
      ...(this.#counts.activity ? [`activities=${this.#counts.activity}`] : []),
      ...(this.#handles ? [`handles=${this.#handles}`] : []),
      ...(this.#goAwaySent ? ['goAway'] : []),
    ].join(' ');
  }

  // -------------------------------------------------------------------------------------------

  #transcribe(response: SpeechResponse, audioMs: number, finished: boolean): void {
    const heard = response.heardText(audioMs);
    const given = this.#transcribed.get(response.id) ?? 0;
    const piece = heard.slice(given);
    if (piece === '' && !finished) return;
    this.#transcribed.set(response.id, heard.length);
    this.#send({
      serverContent: { outputTranscription: finished ? { text: piece, finished: true } : { text: piece } },
    });
  }

  /** A handle the conversation can be resumed with, at every point it can be (not mid-response). */
  #resumptionUpdate(): void {
    if (!this.#setup?.resumption || this.#phase !== 'live') return;
    this.#send({
      sessionResumptionUpdate: { newHandle: `${this.#conversationId}.${++this.#handles}`, resumable: true },
    });
  }

  /** A message the agent cannot take: the socket is closed with 1007 and why, as the service does. */
  #invalid(reason: string): false {
    this.#refuse(INVALID_ARGUMENT, reason);
    return false;
  }

  #refuse(code: number, reason: string): void {
    if (this.#phase === 'closed') return;
    const opening = this.#phase === 'awaiting-setup';
    this.#phase = 'closed';
    // The log line says how a live call ended (`closed by agent 1007 "…"`); a refusal says why here.
    if (opening) this.#host.setSummary(`refused ${code}: ${clip(reason)}`);
    this.#host.close(code, reason);
  }

  #send(message: Record<string, unknown>): void {
    this.#host.sendBinary(Buffer.from(JSON.stringify(message), 'utf8'));
  }
}

/** A protobuf Duration in JSON: `"10s"`, `"2.5s"`. */
function duration(ms: number): string {
  return `${Number((ms / 1000).toFixed(3))}s`;
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
