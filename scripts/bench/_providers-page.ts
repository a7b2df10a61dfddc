/**
 * The page side of scripts/bench/providers.ts, bundled by esbuild for headless Chromium: one real
 * call per step with a provider of testing/providerCases.ts against the local agent (real socket,
 * AudioContext, worklets, fake microphone), read the way the per-provider suites read it
 * (testing/providerPage.ts): the wire as it arrived in the page, and a tap after the player for
 * what a listener hears, both on the audio clock.
 */
import { type ConversationOptions, createConversation } from '@voicewire/core';
import { connectOptions, PROVIDER_CASES } from '../../testing/providerCases.ts';
import type { CredentialKind } from '../../testing/providerCredentials.ts';
import {
  audibleMs,
  bargeIns,
  createOutputTap,
  firstAudible,
  lastAudible,
  leadInMs,
  micFrames,
  recordPage,
  until,
  wireUtterances,
} from '../../testing/providerPage.ts';

/** Set by the bench (Playwright's exposeFunction): the site's server minting a credential. */
declare const voicewireMint: (kind: CredentialKind, target: string, query: string) => Promise<string>;

const page = recordPage();

export interface ProviderCallResult {
  /** The reply's first chunk arriving in the page to its first sample playing (its lead-in of silence excluded), ms of audio clock. */
  firstAudioMs: number;
  /** The same for the greeting, which may arrive while the call is still starting (its player not ready). */
  greetingFirstAudioMs: number;
  /** The library handling the server's barge-in (its player interrupted) to the agent below −60 dBFS on the output, ms of audio clock. */
  bargeInToSilentMs: number;
  /** The first frame of the user's speech leaving the page to the agent below −60 dBFS on the output, ms (includes the server's VAD). */
  speechToSilentMs: number;
  /** The library's own measure of the fade (stats.interruptionMs), ms. */
  fadeMs: number;
}

function peak(samples: Float32Array): number {
  let max = 0;
  for (const sample of samples) max = Math.max(max, Math.abs(sample));
  return max;
}

const steps = {
  names: () => PROVIDER_CASES.map((c) => c.name),
  /**
   * A call with `name`: the greeting plays (muted microphone) until 600 ms of it were heard, then
   * the user speaks over it (the microphone's tone) until the agent is silent, then is silent
   * until the agent's reply plays.
   */
  async call(name: string, origin: string): Promise<ProviderCallResult> {
    const providerCase = PROVIDER_CASES.find((c) => c.name === name);
    if (!providerCase) throw new Error(`no provider case ${name}`);
    page.use(providerCase);
    const tap = createOutputTap();
    const firstSocket = page.sockets.length;
    const conversation = createConversation({
      ...connectOptions(providerCase, origin, '', voicewireMint),
      input: { echoCancellation: false, noiseSuppression: false, autoGainControl: false },
      reconnect: false,
      wakeLock: false,
      audio: tap.audio,
    } as ConversationOptions);
    conversation.mute();
    // Each utterance's first chunk, stamped on the audio thread's clock as it arrives, before the
    // library sees it (the main thread's currentTime lags the rendering by up to a device buffer).
    const firstChunkAt = new Map<string, () => number>();
    page.onReceive = (entry) => {
      const frame = entry.frame;
      if (frame?.kind === 'agentAudio' && !firstChunkAt.has(frame.utterance))
        firstChunkAt.set(frame.utterance, tap.mark());
    };
    const stamped = (mark: (() => number) | null) => mark?.() ?? Number.NaN;
    try {
      await conversation.start();
      const socket = page.sockets[firstSocket]!;
      const context = page.contexts.at(-1)!;
      await until(() => audibleMs(tap.spans()) > 600, 20_000, '600 ms of the greeting heard');
      const unmutedAt = context.currentTime;
      conversation.unmute();
      await until(() => bargeIns(socket).length > 0, 10_000, 'the server to hear the user');
      // Handled: the player's interrupt, stamped on the audio clock.
      await until(() => !Number.isNaN(tap.interrupts()[0] ?? Number.NaN), 5000, 'the interrupt stamped');
      const handledAt = tap.interrupts()[0]!;
      await until(() => conversation.getStats().interruptionMs.length > 0, 5000, 'the fade to end');
      await until(() => tap.heardUpTo() > handledAt + 0.2, 5000, 'the tap after the barge-in');
      conversation.mute();

      // The reply: 100 ms of it heard.
      await until(() => wireUtterances(socket).length >= 2, 20_000, 'the reply');
      const replyKey = wireUtterances(socket)[1]!.key;
      await until(
        () => !Number.isNaN(stamped(firstChunkAt.get(replyKey) ?? null)),
        5000,
        'the reply stamped',
      );
      const replyAt = stamped(firstChunkAt.get(replyKey)!);
      await until(() => audibleMs(tap.spans(), replyAt) > 100, 20_000, 'the reply heard');

      const spans = tap.spans();
      const still = lastAudible(spans, handledAt, handledAt + 0.2);
      const silentAt = Number.isNaN(still) ? handledAt : still;
      const onset = micFrames(socket).find(
        (f) => f.at >= unmutedAt && f.frame?.kind === 'micAudio' && peak(f.frame.samples) > 0.1,
      );
      const [greeting, reply] = wireUtterances(socket);
      // No player yet when the greeting's first chunk came (no tap to stamp it): its arrival on
      // the main thread.
      const greetingStamp = stamped(firstChunkAt.get(greeting!.key) ?? null);
      const greetingAt = Number.isNaN(greetingStamp) ? greeting!.firstAt : greetingStamp;
      return {
        firstAudioMs: (firstAudible(spans, replyAt) - replyAt) * 1000 - leadInMs(reply!),
        greetingFirstAudioMs: (firstAudible(spans) - greetingAt) * 1000 - leadInMs(greeting!),
        bargeInToSilentMs: (silentAt - handledAt) * 1000,
        speechToSilentMs: onset ? (silentAt - onset.at) * 1000 : Number.NaN,
        fadeMs: conversation.getStats().interruptionMs[0] ?? Number.NaN,
      };
    } finally {
      page.onReceive = null;
      await conversation.stop();
    }
  },
};

(globalThis as unknown as { voicewireProvidersBench: typeof steps }).voicewireProvidersBench = steps;
