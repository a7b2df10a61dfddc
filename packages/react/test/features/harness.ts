import { type Conversation, type ConversationOptions, createConversation } from '@voicewire/core';
import { inject } from 'vitest';

export const agentUrl = inject('leaksAgentUrl');

/** Level measurements need the raw microphone: Chrome's processing changes the fake mic. */
export const RAW_MIC = { echoCancellation: false, noiseSuppression: false, autoGainControl: false } as const;

export function until(check: () => boolean, timeoutMs: number, what: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const tick = () => {
      if (check()) resolve();
      else if (performance.now() - started > timeoutMs) reject(new Error(`timed out waiting for ${what}`));
      else setTimeout(tick, 10);
    };
    tick();
  });
}

export function animationFrames(count: number): Promise<void> {
  return new Promise((resolve) => {
    let left = count;
    const step = () => {
      left -= 1;
      if (left <= 0) resolve();
      else requestAnimationFrame(step);
    };
    requestAnimationFrame(step);
  });
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Every microphone track the page opened, to check that each end path stops them all. */
export const openedTracks: MediaStreamTrack[] = [];
{
  const mediaDevices = navigator.mediaDevices;
  const native = mediaDevices.getUserMedia.bind(mediaDevices);
  mediaDevices.getUserMedia = async (constraints?: MediaStreamConstraints) => {
    const stream = await native(constraints);
    openedTracks.push(...stream.getTracks());
    return stream;
  };
}

export function liveTracks(): MediaStreamTrack[] {
  return openedTracks.filter((track) => track.readyState !== 'ended');
}

/** A real conversation with the local agent (mulaw output: cheap to decode on a busy machine). */
export function localConversation(options: Partial<ConversationOptions> = {}): Conversation {
  return createConversation({
    agentId: 'features-agent',
    url: agentUrl,
    apiKey: 'any-key',
    input: { ...RAW_MIC },
    output: { format: 'mulaw', sampleRate: 16000 },
    reconnect: false,
    ...options,
  });
}
