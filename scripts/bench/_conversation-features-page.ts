/**
 * The page side of scripts/bench/conversation-features.ts, bundled by esbuild for headless
 * Chromium: a real conversation (real AudioContext, worklets, decoder, fake microphone) against
 * the scripted in-page server, so the agent's timing is exact and the machine's network is not
 * measured. A tap on the player's output records when the agent's voice is last audible.
 */
import { createConversation, createPlayer, type PlayerOptions } from '../../packages/core/src/index.ts';
import { createScriptedServer } from '../../packages/core/src/testing/index.ts';

const TAP = `
class Tap extends AudioWorkletProcessor {
  constructor() { super(); this.first = -1; this.last = -1; this.reported = -1; }
  process(inputs) {
    const channel = inputs[0] && inputs[0][0];
    if (channel) for (let i = 0; i < channel.length; i++) if (Math.abs(channel[i]) > 0.001) { if (this.first < 0) this.first = currentFrame + i; this.last = currentFrame + i; }
    // Audible span so far, posted as it grows (the context is closed at the end: no asking then).
    if (this.last !== this.reported && currentFrame % 1280 === 0) { this.reported = this.last; this.port.postMessage({ first: this.first, last: this.last, rate: sampleRate }); }
    return true;
  }
}
registerProcessor('features-tap', Tap);
`;

/** A 440 Hz tone at 24 kHz as the `raw` output format (float32 little-endian), in 20 ms chunks. */
function toneChunks(seconds: number): Uint8Array[] {
  const rate = 24_000;
  const step = rate / 50;
  const chunks: Uint8Array[] = [];
  for (let start = 0; start < seconds * rate; start += step) {
    const samples = new Float32Array(step);
    for (let i = 0; i < step; i++) samples[i] = 0.4 * Math.sin((2 * Math.PI * 440 * (start + i)) / rate);
    chunks.push(new Uint8Array(samples.buffer));
  }
  return chunks;
}

/** A conversation whose player plays through a tap; resolves once connected with audio loaded. */
async function tappedConversation(turnTaking: 'vad' | 'pushToTalk') {
  const server = createScriptedServer();
  let tapNode: AudioWorkletNode | null = null;
  let context: BaseAudioContext | null = null;
  const conversation = createConversation({
    agentId: 'bench',
    url: 'ws://scripted.bench/v1/talk',
    WebSocket: server.WebSocket,
    output: { format: 'raw', sampleRate: 24_000 },
    input: { echoCancellation: false, noiseSuppression: false, autoGainControl: false },
    reconnect: false,
    turnTaking,
    wakeLock: false,
    audio: {
      async createPlayer(options: PlayerOptions) {
        context = options.context;
        const url = URL.createObjectURL(new Blob([TAP], { type: 'text/javascript' }));
        await options.context.audioWorklet.addModule(url);
        const input = options.context.createGain();
        tapNode = new AudioWorkletNode(options.context, 'features-tap');
        input.connect(tapNode);
        tapNode.connect(options.context.destination);
        return createPlayer({ ...options, destination: input });
      },
    },
  });
  await conversation.start();
  const audible = { ms: 0, lastAt: -1 };
  const watch = () => {
    if (tapNode)
      tapNode.port.onmessage = (event) => {
        const { first, last, rate } = event.data as { first: number; last: number; rate: number };
        audible.ms = first < 0 ? 0 : ((last - first) / rate) * 1000;
        audible.lastAt = first < 0 ? -1 : last / rate;
      };
  };
  watch();
  return { conversation, server, context: () => context as unknown as AudioContext, audible };
}

export interface DrainResult {
  /** Audio of the goodbye still to play when `hangup` arrived, ms (negative: it ran out that long before). */
  remainingMs: number;
  /** The goodbye's last audible sample (on the output tap) to everything released (status `ended`), ms of the audio clock. */
  releaseAfterLastSampleMs: number;
  /** How much of the goodbye was heard on the tap, ms of audio. */
  heardMs: number;
}

export interface PressResult {
  /** pressToTalk() to the agent below −60 dBFS, ms of audio time (the player's own measurement). */
  pressToSilenceMs: number;
  /** pressToTalk() to the call returning, ms wall. */
  pressCallMs: number;
}

const steps = {
  /**
   * The agent says a goodbye of `seconds`, all sent at once, and hangs up either while it plays
   * (`queued`) or once it has played out, 25 ms after its last sample (`playedOut`: the local
   * agent paces its audio in real time and hangs up when it has had time to play).
   */
  async drain(seconds: number, when: 'queued' | 'playedOut'): Promise<DrainResult> {
    const { conversation, server, audible, context } = await tappedConversation('vad');
    const ctx = context();
    server.serverSend({ type: 'newAudioStream' });
    server.serverSend({ type: 'onAgentTranscript', message: 'Goodbye!' });
    for (const chunk of toneChunks(seconds)) server.audio(chunk);
    const until = (check: () => boolean) =>
      new Promise<void>((resolve) => {
        const tick = () => (check() ? resolve() : setTimeout(tick, 2));
        tick();
      });
    if (when === 'queued') await until(() => audible.ms > 100);
    else await until(() => audible.ms > seconds * 1000 - 15 && ctx.currentTime > audible.lastAt + 0.025);
    const ended = new Promise<number>((resolve) => {
      conversation.on('statusChange', (status) => {
        if (status === 'ended') resolve(ctx.currentTime);
      });
    });
    const hangupAt = ctx.currentTime;
    const startedAt = audible.lastAt - audible.ms / 1000;
    server.serverSend({ type: 'audioStreamEnd', message: 'Goodbye!', jobId: 1 });
    server.hangup();
    const releasedAt = await ended;
    // The tap's last report may still be on its way from the audio thread.
    await until(() => audible.ms > seconds * 1000 - 15 || ctx.state === 'closed');
    await new Promise((resolve) => setTimeout(resolve, 50));
    return {
      remainingMs: (startedAt + seconds - hangupAt) * 1000,
      releaseAfterLastSampleMs: (releasedAt - audible.lastAt) * 1000,
      heardMs: audible.ms,
    };
  },
  /** The agent is mid-reply; the user presses the talk control. */
  async pressToTalk(): Promise<PressResult> {
    const { conversation, server } = await tappedConversation('pushToTalk');
    server.agentSays('A long answer.', toneChunks(3));
    await new Promise<void>((resolve) => {
      const off = conversation.on('modeChange', (mode) => {
        if (mode === 'agentSpeaking') {
          off();
          resolve();
        }
      });
    });
    await new Promise((resolve) => setTimeout(resolve, 300));
    const t0 = performance.now();
    conversation.pressToTalk();
    const pressCallMs = performance.now() - t0;
    await new Promise((resolve) => setTimeout(resolve, 300));
    const measured = conversation.getStats().interruptionMs;
    await conversation.stop();
    return { pressToSilenceMs: measured.at(-1) ?? Number.NaN, pressCallMs };
  },
};

(globalThis as unknown as { voicewireFeaturesBench: typeof steps }).voicewireFeaturesBench = steps;
