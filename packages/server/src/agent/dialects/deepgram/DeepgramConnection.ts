/**
 * One Deepgram Voice Agent connection to the local agent: `Welcome`, the client's `Settings`
 * answered with `SettingsApplied`, audio both ways as binary frames in the encodings `Settings`
 * names, and the brain's turns as the events `@deepgram/sdk` types: `UserStartedSpeaking`
 * (also the barge-in), `ConversationText`, `AgentThinking`, `AgentStartedSpeaking`,
 * `AgentAudioDone`, `Error`. A client that sends nothing for `deepgram.clientTimeoutMs` is
 * dropped, as the service drops it. See docs/providers.md, "Deepgram Voice Agent".
 */
import { randomUUID } from 'node:crypto';
import type { SessionQuery } from '../../context.ts';
import type { AgentErrorKind, DialectConnection, DialectHost } from '../../dialect.ts';
import type { SpeechResponse } from '../../response.ts';
import type { AudioChunk } from '../../speech.ts';
import { mespeakVoiceFor } from '../../voices.ts';
import { DEEPGRAM_GARBAGE_FRAMES } from './garbage.ts';
import { DEEPGRAM_AGENT_ID, openConnection } from './handshake.ts';
import { clip, type DeepgramSettings, isObject, readSettings, readSpeak } from './settings.ts';

/** The messages that change a live agent, and their answers. */
const UPDATES: Readonly<Record<string, string>> = {
  UpdatePrompt: 'PromptUpdated',
  UpdateThink: 'ThinkUpdated',
  UpdateListen: 'ListenUpdated',
  UpdateSpeak: 'SpeakUpdated',
};
/** How long injected agent messages may queue (`behavior: 'queue'`). */
const MAX_QUEUED = 8;

export class DeepgramConnection implements DialectConnection {
  readonly garbage = DEEPGRAM_GARBAGE_FRAMES;
  readonly #host: DialectHost;
  #phase: 'welcome' | 'live' | 'refused' = 'welcome';
  #query: SessionQuery = { faults: [] };
  #scheme = 'none';
  #settings: DeepgramSettings | undefined;
  #lastHeardAt = 0;
  #userSpeaking = false;
  /** When the user's last turn ended (`AgentStartedSpeaking` reports the latency from it). */
  #turnEndedAt: number | undefined;
  readonly #queued: string[] = [];
  #counts = { keepAlives: 0, injected: 0, audioBytes: 0 };

  constructor(host: DialectHost) {
    this.#host = host;
  }

  opened(): void {
    const host = this.#host;
    const opened = openConnection(host);
    if (!opened.ok) {
      this.#phase = 'refused';
      host.setSummary(`refused: ${opened.code}`);
      this.#send({ type: 'Error', description: opened.description, code: opened.code });
      host.close(1008, opened.description);
      return;
    }
    this.#query = opened.query;
    this.#scheme = opened.scheme;
    this.#send({ type: 'Welcome', request_id: randomUUID() });
    this.#lastHeardAt = performance.now();
    this.#watchClient();
  }

  /** Drop a client that went silent: no audio, no `KeepAlive`, nothing for the timeout. */
  #watchClient(): void {
    const timeoutMs = this.#host.ctx.deepgram.clientTimeoutMs;
    const dueIn = this.#lastHeardAt + timeoutMs - performance.now();
    this.#host.later(Math.max(0, Math.ceil(dueIn)), () => {
      if (performance.now() - this.#lastHeardAt < timeoutMs) {
        this.#watchClient();
        return;
      }
      this.#send({
        type: 'Error',
        description:
          "We waited too long for a websocket message. Please ensure that you're sending binary messages containing user speech.",
        code: 'CLIENT_MESSAGE_TIMEOUT',
      });
      this.#host.close(1011, 'client message timeout');
    });
  }

  receiveBinary(bytes: Buffer): void {
    if (this.#phase === 'refused') return;
    this.#lastHeardAt = performance.now();
    if (this.#phase !== 'live') {
      this.#error('SETTINGS_REQUIRED', 'Send Settings before audio: the audio format is not known yet.');
      return;
    }
    this.#counts.audioBytes += bytes.length;
    const problem = this.#host.audioIn(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength));
    if (problem !== undefined) this.#error('INVALID_AUDIO', `Invalid audio: the binary message ${problem}.`);
  }

  receiveText(text: string): void {
    if (this.#phase === 'refused') return;
    this.#lastHeardAt = performance.now();
    let message: unknown;
    try {
      message = JSON.parse(text);
    } catch {
      this.#error(
        'UNPARSABLE_CLIENT_MESSAGE',
        'The message is not JSON: send JSON text messages and binary audio.',
      );
      return;
    }
    if (!isObject(message) || typeof message.type !== 'string') {
      this.#error('UNPARSABLE_CLIENT_MESSAGE', 'The message must be a JSON object with a string "type".');
      return;
    }
    if (message.type === 'Settings') {
      this.#applySettings(message);
      return;
    }
    if (message.type === 'KeepAlive') {
      this.#counts.keepAlives++;
      return;
    }
    if (this.#phase !== 'live') {
      this.#error(
        'SETTINGS_REQUIRED',
        `Send Settings first: "${clip(message.type)}" needs a configured agent.`,
      );
      return;
    }
    this.#onLiveMessage(message.type, message);
  }

  #applySettings(message: Record<string, unknown>): void {
    const host = this.#host;
    if (this.#phase === 'live') {
      this.#error(
        'SETTINGS_ALREADY_APPLIED',
        'Settings were already applied: change them with UpdateSpeak, UpdateThink, UpdatePrompt or UpdateListen.',
      );
      return;
    }
    const read = readSettings(message);
    if (!read.ok) {
      this.#error('INVALID_SETTINGS', read.message);
      return;
    }
    if (host.atCapacity()) {
      this.#phase = 'refused';
      const description = `Too many connections: this local agent allows ${host.ctx.maxConnections} at once.`;
      this.#send({ type: 'Error', description, code: 'TOO_MANY_REQUESTS' });
      host.close(1013, description);
      return;
    }
    const settings = read.settings;
    this.#settings = settings;
    this.#phase = 'live';
    host.start({
      agentId: DEEPGRAM_AGENT_ID,
      input: { encoding: settings.input.encoding, sampleRate: settings.input.sampleRate },
      output: {
        format: settings.output.format,
        sampleRate: settings.output.sampleRate,
        ...(settings.voice ? { voice: settings.voice } : {}),
      },
      query: this.#query,
      summary: [
        `in=${settings.input.label} out=${settings.output.label}`,
        ...(settings.speakModel ? [`speak=${clip(settings.speakModel)}`] : []),
        `auth=${this.#scheme}`,
      ].join(' '),
    });
    this.#send({ type: 'SettingsApplied' });
    host.speakGreeting((settings.greeting ?? host.ctx.greeting).trim());
  }

  #onLiveMessage(type: string, message: Record<string, unknown>): void {
    const host = this.#host;
    switch (type) {
      case 'InjectUserMessage': {
        if (typeof message.content !== 'string' || message.content.trim() === '') {
          this.#error('INVALID_MESSAGE', 'InjectUserMessage.content must be a non-empty string.');
          return;
        }
        this.#counts.injected++;
        this.#send({ type: 'ConversationText', role: 'user', content: message.content });
        this.#send({ type: 'AgentThinking', content: '' });
        this.#turnEndedAt = performance.now();
        host.textInput(message.content, true);
        return;
      }
      case 'InjectAgentMessage': {
        if (typeof message.message !== 'string' || message.message.trim() === '') {
          this.#error('INVALID_MESSAGE', 'InjectAgentMessage.message must be a non-empty string.');
          return;
        }
        this.#counts.injected++;
        this.#injectAgentMessage(message.message, message.behavior);
        return;
      }
      case 'ForceEndTurn':
        // The user's turn ends now (push-to-talk released); with no speech, there is nothing to end.
        host.commitInput();
        return;
      case 'FunctionCallResponse':
        // The agent calls no functions: nothing waits for an answer.
        return;
      default: {
        const answer = UPDATES[type];
        if (answer === undefined) {
          host.logUnknownType(type);
          this.#error('UNPARSABLE_CLIENT_MESSAGE', `Unknown message type "${clip(type)}".`);
          return;
        }
        if (type === 'UpdateSpeak') {
          const speak = readSpeak(message.speak);
          if (speak === false) {
            this.#error(
              'INVALID_MESSAGE',
              'UpdateSpeak.speak must be an object { provider } or a list of them.',
            );
            return;
          }
          const settings = this.#settings!;
          const voice = mespeakVoiceFor(speak);
          host.setOutput({
            format: settings.output.format,
            sampleRate: settings.output.sampleRate,
            ...(voice ? { voice } : {}),
          });
        }
        this.#send({ type: answer });
      }
    }
  }

  /**
   * `default`: spoken only when neither side is mid-turn (otherwise `InjectionRefused`);
   * `queue`: after what the agent is saying; `interrupt`: at once, over it.
   */
  #injectAgentMessage(text: string, behavior: unknown): void {
    const host = this.#host;
    if (behavior === 'queue') {
      if (host.say(text, false) !== 'busy') return;
      if (this.#queued.length < MAX_QUEUED) this.#queued.push(text);
      else this.#send({ type: 'InjectionRefused', message: 'Too many agent messages are queued.' });
      return;
    }
    const interrupt = behavior === 'interrupt';
    if (!interrupt && this.#userSpeaking) {
      this.#send({
        type: 'InjectionRefused',
        message: 'The user is speaking: the message was not injected.',
      });
      return;
    }
    if (host.say(text, interrupt) === 'busy')
      this.#send({
        type: 'InjectionRefused',
        message: 'The agent is speaking: the message was not injected.',
      });
  }

  // -------------------------------------------------------------------------------------------
  // The brain's outputs

  speechStarted(): void {
    this.#userSpeaking = true;
    // The user took the floor: what was queued for the agent to say is dropped with what it says.
    this.#queued.length = 0;
    this.#send({ type: 'UserStartedSpeaking' });
  }

  userTurn(turn: { description: string }): void {
    this.#userSpeaking = false;
    this.#turnEndedAt = performance.now();
    this.#send({ type: 'ConversationText', role: 'user', content: turn.description });
    this.#send({ type: 'AgentThinking', content: '' });
  }

  responseStarted(response: SpeechResponse): void {
    const ended = this.#turnEndedAt;
    this.#turnEndedAt = undefined;
    // No language model: the whole wait is speech synthesis.
    const latency = response.kind === 'reply' && ended !== undefined ? (performance.now() - ended) / 1000 : 0;
    const seconds = Math.round(latency * 1000) / 1000;
    this.#send({ type: 'ConversationText', role: 'assistant', content: response.text });
    this.#send({
      type: 'AgentStartedSpeaking',
      total_latency: seconds,
      tts_latency: seconds,
      ttt_latency: 0,
    });
  }

  audio(_response: SpeechResponse, chunk: AudioChunk): void {
    this.#host.sendBinary(chunk.bytes);
  }

  responseDone(): void {
    this.#send({ type: 'AgentAudioDone' });
    const next = this.#queued.shift();
    if (next !== undefined) this.#host.say(next, false);
  }

  /** `UserStartedSpeaking` already told the client; the rest of the audio is simply not sent. */
  responseInterrupted(): void {}

  greetingEnded(): void {}

  hangingUp(): number {
    return 0;
  }

  error(kind: AgentErrorKind, message: string): void {
    this.#error(kind === 'internal' ? 'INTERNAL_SERVER_ERROR' : 'INVALID_MESSAGE', message);
  }

  faultError(code: number, message: string): void {
    const name =
      code === 4500 ? 'INTERNAL_SERVER_ERROR' : code === 4429 ? 'TOO_MANY_REQUESTS' : 'BAD_REQUEST';
    this.#send({ type: 'Error', description: message, code: name });
  }

  describe(): string {
    if (!this.#settings) return '';
    return [
      `keepalives=${this.#counts.keepAlives}`,
      `audio_in=${Math.round(this.#counts.audioBytes / 1024)}KB`,
      ...(this.#counts.injected ? [`injected=${this.#counts.injected}`] : []),
    ].join(' ');
  }

  // -------------------------------------------------------------------------------------------

  /** `Error { description, code }`: the socket stays open. */
  #error(code: string, description: string): void {
    if (!this.#host.allowError()) return;
    this.#send({ type: 'Error', description, code });
  }

  #send(message: Record<string, unknown>): void {
    this.#host.sendText(JSON.stringify(message));
  }
}
