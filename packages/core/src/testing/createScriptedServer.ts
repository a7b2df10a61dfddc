import { encodeBase64 } from '../codec/base64.ts';
import type { ClientMessage, ServerMessage, SetupMessage } from '../providers/playai/messages.ts';
import { FakeWebSocket, type SentFrame } from './FakeWebSocket.ts';

export interface ScriptedServerOptions {
  /**
   * Accept each connection by itself (on a microtask after the client creates the socket).
   * `false` leaves it connecting until `open()`. @defaultValue true
   */
  autoOpen?: boolean;
  /**
   * Answer each `setup` with `init` (on a microtask). The conversation id is this string, or
   * `continueConversation` when the client resumes one. `false` never answers (to test the
   * connect timeout). @defaultValue 'conv-1'
   */
  autoInit?: string | false;
  /** Called for each message a client sends, after it is recorded. */
  onClientMessage?: (message: ClientMessage | null, raw: string, socket: FakeWebSocket) => void;
}

export interface ScriptedServer {
  /** Pass this as the conversation's `WebSocket` option. */
  readonly WebSocket: typeof WebSocket;
  /** Every socket the client opened, oldest first. */
  readonly sockets: readonly FakeWebSocket[];
  /** The newest socket (the live one, if any). */
  readonly socket: FakeWebSocket | undefined;
  /** Client messages on every socket so far, optionally of one type. */
  received<T extends ClientMessage['type']>(type?: T): Extract<ClientMessage, { type: T }>[];
  /** Raw frames the client sent on every socket, in order. */
  readonly sent: readonly SentFrame[];
  /** Accept the newest socket (when `autoOpen` is false). */
  open(): void;
  /** Send a server message (or a raw string, to test malformed frames) on the newest socket. */
  serverSend(message: ServerMessage | object | string): void;
  /** Close the newest socket from the server (1006 simulates a dropped network). */
  serverClose(code?: number, reason?: string): void;
  /** `init` with this conversation id. */
  init(conversationId?: string): void;
  /** The agent greets: `onAgentGreeting`, `newAudioStream`, the audio chunks, `onAgentGreetingEnd`, `audioStreamEnd` (top-level `message` and a numeric `jobId`, the deployed shape). */
  greet(text: string, audio?: Uint8Array[]): void;
  /** The user speaks and is transcribed: `voiceActivityStart`, `voiceActivityEnd`, `onUserTranscript`. */
  userSays(text: string): void;
  /** The agent answers: `newAudioStream`, `onAgentTranscript`, the audio chunks, `audioStreamEnd`. */
  agentSays(text: string, audio?: Uint8Array[]): void;
  /** The user barges in: `voiceActivityStart`, then `onAgentInterrupted` with what was spoken. */
  interrupt(updatedMessage?: string): void;
  /** `audioStream` with these bytes, base64-encoded. */
  audio(bytes: Uint8Array): void;
  /** `error` with this code; `isFatal` only when given. */
  error(code: number, message?: string, isFatal?: boolean): void;
  /** `hangup` (the agent ends the call). */
  hangup(endedBy?: string): void;
}

/**
 * An in-memory talk-protocol server for tests and stories: hand `server.WebSocket` to
 * `createConversation`, then play the agent's side with `greet`, `userSays`, `agentSays`,
 * `interrupt`, `error`, `hangup`… and read what the client sent with `received()`.
 * No network, no timers: every step is synchronous except the automatic open and init, which
 * happen on a microtask (so `await conversation.start()` just works).
 */
export function createScriptedServer(options: ScriptedServerOptions = {}): ScriptedServer {
  const autoOpen = options.autoOpen ?? true;
  const autoInit = options.autoInit ?? 'conv-1';
  const sockets: FakeWebSocket[] = [];
  /** `audioStreamEnd.jobId`: a number, as the deployed service sends it (docs/protocol.md). */
  let jobId = 0;

  function onClientMessage(frame: SentFrame, socket: FakeWebSocket): void {
    options.onClientMessage?.(frame.message, frame.raw, socket);
    if (autoInit !== false && frame.message?.type === 'setup') {
      const setup = frame.message as SetupMessage;
      const conversationId = setup.continueConversation ?? autoInit;
      void Promise.resolve().then(() =>
        socket.serverSend({ type: 'init', conversationId, agentOwnerId: 'owner-1' }),
      );
    }
  }

  class ScriptedWebSocket extends FakeWebSocket {
    constructor(url: string | URL, protocols?: string | string[]) {
      super(url, protocols);
      sockets.push(this);
      this.onClientMessage = onClientMessage;
      if (autoOpen) void Promise.resolve().then(() => this.serverOpen());
    }
  }

  const latest = (): FakeWebSocket | undefined => sockets[sockets.length - 1];
  const send = (message: object | string): void => latest()?.serverSend(message);
  const sendAudio = (chunks: Uint8Array[] | undefined): void => {
    for (const chunk of chunks ?? []) send({ type: 'audioStream', data: encodeBase64(chunk) });
  };

  return {
    WebSocket: ScriptedWebSocket as unknown as typeof WebSocket,
    sockets,
    get socket() {
      return latest();
    },
    received(type) {
      return sockets.flatMap((socket) => socket.messages(type));
    },
    get sent() {
      return sockets.flatMap((socket) => socket.sent);
    },
    open: () => latest()?.serverOpen(),
    serverSend: send,
    serverClose: (code = 1000, reason = '') => latest()?.serverClose(code, reason),
    init: (conversationId = 'conv-1') => send({ type: 'init', conversationId, agentOwnerId: 'owner-1' }),
    greet(text, audio) {
      send({ type: 'onAgentGreeting', message: text });
      send({ type: 'newAudioStream' });
      sendAudio(audio);
      send({ type: 'onAgentGreetingEnd', message: text });
      send({ type: 'audioStreamEnd', message: text, jobId: ++jobId });
    },
    userSays(text) {
      send({ type: 'voiceActivityStart' });
      send({ type: 'voiceActivityEnd' });
      send({ type: 'onUserTranscript', message: text });
    },
    agentSays(text, audio) {
      send({ type: 'newAudioStream' });
      send({ type: 'onAgentTranscript', message: text });
      sendAudio(audio);
      send({ type: 'audioStreamEnd', message: text, jobId: ++jobId });
    },
    interrupt(updatedMessage) {
      send({ type: 'voiceActivityStart' });
      send(
        updatedMessage === undefined
          ? { type: 'onAgentInterrupted' }
          : { type: 'onAgentInterrupted', updatedMessage },
      );
    },
    audio: (bytes) => send({ type: 'audioStream', data: encodeBase64(bytes) }),
    error: (code, message = '', isFatal) =>
      send(
        isFatal === undefined ? { type: 'error', code, message } : { type: 'error', code, message, isFatal },
      ),
    hangup: (endedBy = 'agent') => send({ type: 'hangup', endedBy }),
  };
}
