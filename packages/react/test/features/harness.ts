import {
  type CaptureOptions,
  type Conversation,
  type ConversationAudio,
  type ConversationOptions,
  createCapture,
  createConversation,
} from '@voicewire/core';
import { inject } from 'vitest';

export const agentUrl = inject('leaksAgentUrl');

/** Level measurements need the raw microphone: Chrome's processing changes the fake mic. */
export const RAW_MIC = { echoCancellation: false, noiseSuppression: false, autoGainControl: false } as const;

/**
 * The real capture, its first audio awaited for up to 20 s instead of the library's 5 s: Firefox's
 * PulseAudio input starts late on a loaded machine, and the call would end in "sends no audio".
 */
export const PATIENT_AUDIO: ConversationAudio = {
  createCapture: (options: CaptureOptions) => createCapture({ ...options, startTimeoutMs: 20_000 }),
};

/** `what` may be a function: the failure then says how things stood (a status, an error). */
export function until(check: () => boolean, timeoutMs: number, what: string | (() => string)): Promise<void> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const tick = () => {
      if (check()) resolve();
      else if (performance.now() - started > timeoutMs)
        reject(new Error(`timed out waiting for ${typeof what === 'string' ? what : what()}`));
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
    audio: PATIENT_AUDIO,
    ...options,
  });
}

/** What a call is doing, for a failure message. */
export function callState(conversation: Conversation): string {
  const { status, mode, error } = conversation.store.getState();
  return `status ${status}, mode ${mode}${error ? `, error ${error.kind}: ${error.message}` : ''}`;
}
