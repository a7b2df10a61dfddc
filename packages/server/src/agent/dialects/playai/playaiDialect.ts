/**
 * PlayAI's talk protocol (docs/protocol.md): the API page's `ws://HOST:PORT/v1/talk/<agentId>`
 * and the deployed SDK's `ws://HOST:PORT/v1/agents/<agentId>/start-conversation`, the same
 * protocol on both. The key travels in the first message (`setup.apiKey`); audio goes both ways
 * as base64 in JSON (`audioIn`, `audioStream`) in the formats the setup chose.
 */
import { decodeBase64 } from '@voicewire/core';
import { parseClientMessage, SDK_CLIENT_MESSAGE_TYPES } from '@voicewire/core/playai/protocol';
import type { AgentErrorKind, Dialect, DialectConnection, DialectHost, HttpContext } from '../../dialect.ts';
import type { SpeechResponse } from '../../response.ts';
import type { AudioChunk } from '../../speech.ts';
import { acceptSetup, TALK_PATH } from './acceptSetup.ts';
import { PLAYAI_GARBAGE_FRAMES } from './garbage.ts';

/** Without a setup in this long, the connection is not a client of ours. */
const SETUP_TIMEOUT_MS = 15_000;
/** The deployed SDK's path: `/v1/agents/<agentId>/start-conversation`. */
const AGENTS_PATH = /^\/v1\/agents\/([^/]*)\/start-conversation\/?$/;
const TALK_PATH_PATTERN = /^\/v1\/talk(?:\/([^/]*))?\/?$/;

/** The SDK's bookkeeping messages: accepted quietly, never answered, never stored. */
const QUIET_CLIENT_TYPES: ReadonlySet<string> = new Set(SDK_CLIENT_MESSAGE_TYPES);

export const playaiDialect: Dialect = {
  name: 'playai',
  matches(pathname) {
    const match = TALK_PATH_PATTERN.exec(pathname) ?? AGENTS_PATH.exec(pathname);
    if (!match) return undefined;
    if (match[1] === undefined || match[1] === '') return {};
    try {
      return { agentId: decodeURIComponent(match[1]) };
    } catch {
      return { agentId: '\u0000invalid' };
    }
  },
  // Any subprotocol a client offers is fine: the key is in the setup message, never in one.
  selectProtocol: (offered) => offered[0],
  connect: (host) => new PlayAIConnection(host),
  handleHttp(request, response, agent: HttpContext) {
    const path = new URL(request.url ?? '/', 'http://localhost').pathname;
    if (!(path === TALK_PATH || path.startsWith(`${TALK_PATH}/`) || AGENTS_PATH.test(path))) return false;
    response
      .writeHead(426, { ...agent.headers, 'content-type': 'text/plain; charset=utf-8', upgrade: 'websocket' })
      .end(
        `This is a WebSocket endpoint: connect with new WebSocket('${agent.origin}${TALK_PATH}/<agentId>').\n`,
      );
    return true;
  },
};

class PlayAIConnection implements DialectConnection {
  readonly #host: DialectHost;
  #awaitingSetup = true;
  readonly garbage = PLAYAI_GARBAGE_FRAMES;

  constructor(host: DialectHost) {
    this.#host = host;
  }

  opened(): void {
    this.#host.later(SETUP_TIMEOUT_MS, () => {
      if (this.#awaitingSetup) {
        this.#failSetup(4400, `No setup message within ${SETUP_TIMEOUT_MS / 1000} s of connecting.`, 1008);
      }
    });
  }

  receiveBinary(): void {
    const message = 'Binary frames are not part of the protocol: send JSON text frames.';
    if (this.#awaitingSetup) this.#failSetup(4400, message, 1003);
    else this.#sendError(4400, message, false);
  }

  receiveText(text: string): void {
    if (this.#awaitingSetup) this.#onSetup(text);
    else this.#onLiveMessage(text);
  }

  #onSetup(text: string): void {
    const host = this.#host;
    const accepted = acceptSetup(text, host);
    if (!accepted.ok) {
      this.#failSetup(accepted.code, accepted.message, accepted.closeCode);
      return;
    }
    this.#awaitingSetup = false;
    const { setup, query, resumed } = accepted;
    const conversationId = host.start({
      agentId: host.init.agentId ?? '',
      resumed,
      input: { encoding: setup.inputEncoding, sampleRate: setup.inputSampleRate },
      output: { format: setup.outputFormat, sampleRate: setup.outputSampleRate },
      query,
      summary: [
        `out=${setup.outputFormat}@${setup.outputSampleRate}`,
        `in=${setup.inputEncoding}${setup.inputSampleRate ? `@${setup.inputSampleRate}` : ''}`,
        ...(accepted.anonymous ? ['anonymous'] : []),
      ].join(' '),
    });
    this.#send({ type: 'init', conversationId, agentOwnerId: 'voicewire-local', language: 'en' });
    host.speakGreeting(resumed ? '' : (setup.customGreeting ?? host.ctx.greeting).trim());
  }

  #onLiveMessage(text: string): void {
    const host = this.#host;
    const parsed = parseClientMessage(text);
    if (parsed.kind === 'invalid') {
      this.#sendError(4400, `Invalid parameters: ${parsed.error}`, false);
      return;
    }
    if (parsed.kind === 'unknown') {
      // The SDK's bookkeeping is accepted quietly and dropped (nothing of a call is recorded);
      // other types are ignored with one log line, as a tolerant server does.
      if (!QUIET_CLIENT_TYPES.has(parsed.type)) host.logUnknownType(parsed.type);
      return;
    }
    const message = parsed.message;
    switch (message.type) {
      case 'audioIn': {
        if (message.data === '') {
          host.silenceIn();
          return;
        }
        let bytes: Uint8Array;
        try {
          bytes = decodeBase64(message.data);
        } catch (error) {
          this.#sendError(
            4400,
            `Invalid parameters: audioIn.data is not valid base64 (${errorText(error)}).`,
            false,
          );
          return;
        }
        const problem = host.audioIn(bytes);
        if (problem !== undefined) this.#sendError(4400, `Invalid parameters: audioIn ${problem}`, false);
        return;
      }
      case 'customInput':
        host.textInput(message.data, true);
        return;
      case 'setup':
        this.#sendError(4400, 'Invalid parameters: this session is already set up.', false);
        return;
    }
  }

  // -------------------------------------------------------------------------------------------
  // The brain's outputs

  speechStarted(): void {
    this.#send({ type: 'voiceActivityStart' });
  }

  userTurn(turn: { description: string }): void {
    this.#send({ type: 'voiceActivityEnd' });
    this.#send({ type: 'onUserTranscript', message: turn.description });
  }

  responseStarted(response: SpeechResponse): void {
    if (response.kind === 'greeting') this.#send({ type: 'onAgentGreeting', message: response.text });
    else this.#send({ type: 'onAgentTranscript', message: response.text });
    this.#send({ type: 'newAudioStream' });
  }

  audio(_response: SpeechResponse, chunk: AudioChunk): void {
    // Built once per chunk: a cached greeting goes to every session without new base64 or JSON.
    this.#host.sendText(
      chunk.frame('playai', (c) => Buffer.from(`{"type":"audioStream","data":"${c.base64()}"}`, 'utf8')),
    );
  }

  responseDone(response: SpeechResponse): void {
    // Top-level message and a numeric jobId, as the deployed service sends it; the nested object
    // is the older form, kept for clients that read it (docs/protocol.md, "Server → client").
    this.#send({
      type: 'audioStreamEnd',
      message: response.text,
      jobId: response.id,
      audioStreamEnd: { message: response.text, jobId: response.id },
    });
  }

  responseInterrupted(response: SpeechResponse): void {
    this.#send({ type: 'onAgentInterrupted', updatedMessage: response.turn.text });
  }

  /** `onAgentGreetingEnd`, exactly once per call. */
  greetingEnded(text: string): void {
    this.#send({ type: 'onAgentGreetingEnd', message: text });
  }

  hangingUp(): number {
    this.#send({ type: 'hangup', endedBy: 'agent' });
    return 0;
  }

  error(kind: AgentErrorKind, message: string): void {
    this.#sendError(kind === 'internal' ? 4500 : 4400, message, false);
  }

  faultError(code: number, message: string): void {
    this.#sendError(code, message, true);
  }

  // -------------------------------------------------------------------------------------------

  #send(message: Record<string, unknown>): void {
    this.#host.sendText(JSON.stringify(message));
  }

  /** Every error carries `isFatal` (docs/protocol.md, "Errors"). */
  #sendError(code: number, message: string, isFatal: boolean): void {
    if (this.#host.allowError()) this.#send({ type: 'error', code, message, isFatal });
  }

  #failSetup(code: number, message: string, closeCode: number): void {
    this.#awaitingSetup = false;
    this.#host.setSummary(`setup refused ${code}`);
    // The error frame goes out before the close frame; `isFatal` because the call is over
    // (clients that validate the shape, like PlayAI's SDK, drop an error without it).
    this.#sendError(code, message, true);
    this.#host.close(closeCode, `setup refused (${code})`);
  }
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
