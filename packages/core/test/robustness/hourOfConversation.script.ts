/**
 * Child-process half of hourOfConversation.test.ts: runs one simulated hour through the real
 * conversation controller and prints heap samples as JSON. Run with `node --expose-gc` so that
 * each sample is taken after a full collection (what is left is what the library keeps).
 *
 * The socket and the audio are stand-ins that keep nothing (the test's fakes record every frame,
 * which would be the test's memory, not the library's).
 */
import type { AudioLevelReading, Capture, CaptureOptions, Player, PlayerOptions } from '../../src/index.ts';
import { createConversation } from '../../src/index.ts';
import { FakeAudioContext, FakeWebSocket } from '../../src/testing/index.ts';

const FRAMES_PER_SECOND = 50; // 20 ms frames
const SECONDS = Number(process.env.HOUR_SECONDS ?? 3600);
const CYCLE_SECONDS = 10; // one user turn and one agent turn every ten seconds
const SAMPLE_EVERY_SECONDS = 300;

const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with --expose-gc');

/** A socket that answers setup with init and forgets everything it is sent. */
class ForgetfulSocket extends FakeWebSocket {
  framesSent = 0;
  constructor(url: string | URL) {
    super(url);
    queueMicrotask(() => this.serverOpen());
  }
  override send(data: string | ArrayBufferLike | Blob | ArrayBufferView): void {
    if (this.readyState !== 1) return;
    this.framesSent++;
    if (typeof data === 'string' && data.startsWith('{"type":"setup"')) {
      queueMicrotask(() => this.serverSend({ type: 'init', conversationId: 'hour-1', agentOwnerId: 'o' }));
    }
  }
}
let socket: ForgetfulSocket | undefined;
class Socket extends ForgetfulSocket {
  constructor(url: string | URL) {
    super(url);
    socket = this;
  }
}

let onFrame: CaptureOptions['onFrame'] | undefined;
const silentLevel: AudioLevelReading = { rms: 0, peak: 0 };
let playerListeners = new Map<string, Set<(arg: never) => void>>();
let bytesPlayed = 0;
const capture = (options: CaptureOptions): Promise<Capture> => {
  onFrame = options.onFrame;
  let muted = false;
  let stopped = false;
  return Promise.resolve({
    sampleRate: 16000,
    encoding: 'linear16',
    frameMs: 20,
    get muted() {
      return muted;
    },
    get stopped() {
      return stopped;
    },
    framesCaptured: 0,
    mute: () => {
      muted = true;
    },
    unmute: () => {
      muted = false;
    },
    getLevel: () => silentLevel,
    setDevice: async () => {},
    stop: () => {
      stopped = true;
    },
  });
};
const player = (options: PlayerOptions): Promise<Player> => {
  playerListeners = new Map();
  const p: Player = {
    format: options.format,
    sampleRate: options.sampleRate,
    enqueue: (bytes) => {
      bytesPlayed += bytes.length;
    },
    interrupt: () => {},
    newStream: () => {},
    endStream: () => {},
    setVolume: () => {},
    getLevel: () => silentLevel,
    getStats: () => ({
      bufferedMs: 0,
      jitterTargetMs: 40,
      underruns: 0,
      generation: 0,
      bytesEnqueued: bytesPlayed,
      chunksDropped: 0,
    }),
    on: ((event: string, listener: (arg: never) => void) => {
      const set = playerListeners.get(event) ?? new Set();
      playerListeners.set(event, set);
      set.add(listener);
      return () => set.delete(listener);
    }) as Player['on'],
    close: () => {},
  };
  return Promise.resolve(p);
};
const firePlayer = (event: string) => {
  for (const listener of playerListeners.get(event) ?? []) (listener as (g: number) => void)(0);
};

const conversation = createConversation({
  agentId: 'hour-agent',
  url: 'ws://hour.test/v1/talk',
  input: { encoding: 'linear16', sampleRate: 16000 },
  output: { format: 'mulaw', sampleRate: 16000 },
  WebSocket: Socket as unknown as typeof WebSocket,
  AudioContext: FakeAudioContext as unknown as typeof AudioContext,
  audio: { createCapture: capture, createPlayer: player },
});
await conversation.start();
if (conversation.store.getState().status !== 'connected' || !socket || !onFrame) {
  throw new Error(`did not connect: ${JSON.stringify(conversation.store.getState())}`);
}
const live = socket;
const micFrame = new Uint8Array(640).map((_, i) => (i * 13) & 0xff);
// Audio out: 20 ms of mulaw 16 kHz per chunk, base64 built once per distinct chunk.
const agentChunks = Array.from({ length: 8 }, (_, k) =>
  JSON.stringify({
    type: 'audioStream',
    data: Buffer.from(new Uint8Array(320).fill(k * 31)).toString('base64'),
  }),
);

const samples: { second: number; heapUsed: number; transcriptChars: number; turns: number }[] = [];
const sample = (second: number) => {
  gc();
  gc();
  const state = conversation.store.getState();
  samples.push({
    second,
    heapUsed: process.memoryUsage().heapUsed,
    transcriptChars: state.transcript.reduce((sum, t) => sum + t.text.length + t.id.length, 0),
    turns: state.transcript.length,
  });
};

let messagesOut = 0;
for (let second = 0; second < SECONDS; second++) {
  const inCycle = second % CYCLE_SECONDS;
  const turn = Math.floor(second / CYCLE_SECONDS);
  for (let f = 0; f < FRAMES_PER_SECOND; f++) {
    onFrame(micFrame, { captureTime: (second * FRAMES_PER_SECOND + f) * 0.02 });
    // The user speaks for the first 3 s of each cycle; the agent answers for the next 5 s.
    if (inCycle === 0 && f === 0) live.serverSend({ type: 'voiceActivityStart' });
    if (inCycle === 3 && f === 0) {
      live.serverSend({ type: 'voiceActivityEnd' });
      live.serverSend({
        type: 'onUserTranscript',
        message: `User turn ${turn}: what is the weather like today?`,
      });
      live.serverSend({ type: 'newAudioStream' });
      live.serverSend({
        type: 'onAgentTranscript',
        message: `Agent turn ${turn}: it is sunny with a light breeze.`,
      });
    }
    if (inCycle >= 3 && inCycle < 8) {
      live.serverSend(agentChunks[(second + f) % agentChunks.length] as string);
      messagesOut++;
      if (inCycle === 3 && f === 5) firePlayer('started');
    }
    if (inCycle === 8 && f === 0) {
      live.serverSend({ type: 'audioStreamEnd', audioStreamEnd: { message: 'done', jobId: `job-${turn}` } });
      firePlayer('drained');
    }
  }
  // Let the controller's microtasks and any zero-delay timers run, as an event loop would.
  if (second % 10 === 9) await new Promise((resolve) => setImmediate(resolve));
  if (second % SAMPLE_EVERY_SECONDS === 0 || second === SECONDS - 1) sample(second + 1);
}

const state = conversation.store.getState();
const result = {
  samples,
  framesSent: live.framesSent,
  audioChunksIn: messagesOut,
  bytesPlayed,
  status: state.status,
  mode: state.mode,
  turns: state.transcript.length,
  stats: {
    ...conversation.getStats(),
    timeToFirstAudioMs: conversation.getStats().timeToFirstAudioMs.length,
  },
};
await conversation.stop();
process.stdout.write(`${JSON.stringify(result)}\n`);
