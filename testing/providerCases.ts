/**
 * The providers the per-provider browser suites (packages/react/test/providers/) and the bench
 * (scripts/bench/providers.ts) run against the local agent, one entry each: how a page connects
 * (factory, endpoint, credential), what the vendor can do (resume a dropped call, a push-to-talk
 * control on the wire), and how to read its wire (the agent's audio, its barge-in message, the
 * microphone's frames) so that a test checks what crossed the socket without asking the library.
 * Adding a provider is one entry in {@link PROVIDER_CASES} (once the local agent speaks its
 * protocol): its factory, path, wire reader and credential. `credential: 'apiKey'` is the
 * provider's own way of sending a key (the `apiKey` option) and needs nothing more; a browser-safe
 * credential the vendor mints server-side adds its kind to testing/providerCredentials.ts.
 *
 * Runs in the browser (the cases, the wire readers) and in Node (the bench reads the list); the
 * credentials are minted server-side by testing/providerCredentials.ts.
 */
import { type ConversationOptions, decodeBase64, type Provider } from '@voicewire/core';
import { elevenlabs } from '@voicewire/core/elevenlabs';
import { openaiRealtime } from '@voicewire/core/openai';
import { playai } from '@voicewire/core/playai';
import { type CredentialKind, LOCAL_AGENT_KEY } from './providerCredentials.ts';

/** One frame the server sent, as a test reads it. */
export type ServerFrame =
  /** Agent audio: the utterance it belongs to (a new key starts a new one) and its samples. */
  | { kind: 'agentAudio'; utterance: string; samples: Float32Array; sampleRate: number }
  /** The server heard the user start speaking over the agent. */
  | { kind: 'bargeIn' }
  | { kind: 'other'; type: string };

/** One frame the page sent, as a test reads it. */
export type PageFrame =
  /** Microphone audio, decoded (digital silence for a muted or released microphone). */
  | { kind: 'micAudio'; samples: Float32Array }
  /** Anything else, by its type (`setup`, `conversation.item.truncate`…), with its fields. */
  | { kind: 'control'; type: string; message: Record<string, unknown> };

/** Reads one socket's frames; stateful (utterance numbering, the format a server announces). */
export interface WireReader {
  fromServer(data: unknown): ServerFrame | null;
  fromPage(data: unknown): PageFrame | null;
}

export interface ProviderCase {
  /** For test names and bench rows. */
  name: string;
  /** The endpoint's path on the local agent (`url` is the agent's origin + this). */
  path: string;
  /** The agent id or model the credential is minted for. */
  target: string;
  provider(): Provider;
  /** Conversation options of this provider's calls beside provider, url and credentials. */
  options: Partial<ConversationOptions>;
  credential: CredentialKind;
  /** A dropped connection reconnects and resumes the same conversation (else: `ended`, saying why). */
  resumes: boolean;
  /**
   * Push-to-talk on the wire: the frames the page sends on a press and on a release (OpenAI:
   * clear, then commit and response.create). Empty: the vendor has no such control, and the
   * microphone gate and a tail of silence close the turn.
   */
  pushToTalk: { pressed: string[]; released: string[] };
  /**
   * The server says what the agent managed to say when cut off (PlayAI's `onAgentInterrupted`,
   * ElevenLabs' `agent_response_correction`); otherwise the library estimates it.
   */
  saysWhatWasSpoken: boolean;
  /** The frame that tells the server what the user heard when cut off (OpenAI's truncate), with its heard ms. */
  truncate?: { type: string; heardMs(message: Record<string, unknown>): number };
  wire(): WireReader;
}

export const PROVIDER_CASES: ProviderCase[] = [
  {
    name: 'PlayAI',
    path: '/v1/talk',
    target: 'provider-suite-agent',
    provider: () => playai({ agentId: 'provider-suite-agent' }),
    options: { output: { format: 'wav', sampleRate: 24_000 } },
    credential: 'apiKey',
    resumes: true,
    saysWhatWasSpoken: true,
    pushToTalk: { pressed: [], released: [] },
    wire: playaiWire,
  },
  {
    name: 'OpenAI Realtime',
    path: '/v1/realtime',
    target: 'gpt-realtime',
    provider: () => openaiRealtime({ model: 'gpt-realtime', instructions: 'Be brief.' }),
    options: {},
    credential: 'openaiEphemeralKey',
    resumes: false,
    saysWhatWasSpoken: false,
    pushToTalk: {
      pressed: ['input_audio_buffer.clear'],
      released: ['input_audio_buffer.commit', 'response.create'],
    },
    truncate: {
      type: 'conversation.item.truncate',
      heardMs: (message) => Number(message.audio_end_ms),
    },
    wire: openaiWire,
  },
  {
    name: 'ElevenLabs',
    path: '/v1/convai/conversation',
    target: 'provider-suite-agent',
    provider: () => elevenlabs({ agentId: 'provider-suite-agent' }),
    options: {},
    credential: 'elevenlabsSignedUrl',
    resumes: false,
    saysWhatWasSpoken: true,
    pushToTalk: { pressed: [], released: [] },
    wire: elevenlabsWire,
  },
];

/**
 * The options that open a call of `providerCase` on the agent at `origin`, with `agentQuery`
 * (the local agent's per-call options: `hangupAfterTurns=1`, `fault=drop:1500`) where the
 * vendor's URL carries them: the socket URL's query, or the signed URL a server mints.
 * `mint(kind, target, query)` asks the site's server for a credential (testing/providerCredentials.ts).
 */
export function connectOptions(
  providerCase: ProviderCase,
  origin: string,
  agentQuery: string,
  mint: (kind: CredentialKind, target: string, query: string) => Promise<string>,
): Partial<ConversationOptions> {
  const endpoint = `${origin}${providerCase.path}`;
  const base = { provider: providerCase.provider(), ...providerCase.options };
  switch (providerCase.credential) {
    case 'apiKey':
      return { ...base, url: withAgentQuery(endpoint, agentQuery), apiKey: LOCAL_AGENT_KEY };
    case 'openaiEphemeralKey':
      return {
        ...base,
        url: withAgentQuery(endpoint, agentQuery),
        getToken: () => mint('openaiEphemeralKey', providerCase.target, ''),
      };
    case 'elevenlabsSignedUrl':
      // A signed URL is the whole socket address: the agent's options go into it when minted.
      return {
        ...base,
        url: endpoint,
        getToken: () => mint('elevenlabsSignedUrl', providerCase.target, agentQuery),
      };
  }
}

function withAgentQuery(endpoint: string, query: string): string {
  return query === '' ? endpoint : `${endpoint}?${query}`;
}

// ----------------------------------------------------------------------------------------------
// Wire readers: each vendor's frames, read independently of the provider under test

function parse(data: unknown): Record<string, unknown> | null {
  if (typeof data !== 'string') return null;
  try {
    const value = JSON.parse(data) as unknown;
    return typeof value === 'object' && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : null;
  } catch {
    return null;
  }
}

/** 16-bit little-endian PCM to floats; an odd trailing byte is ignored. */
export function pcm16Samples(bytes: Uint8Array): Float32Array {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out = new Float32Array(bytes.byteLength >> 1);
  for (let i = 0; i < out.length; i++) out[i] = view.getInt16(i * 2, true) / 32768;
  return out;
}

/** The PCM of a chunk that may begin with a RIFF/WAVE header (a stream's first `wav` chunk). */
function withoutWavHeader(bytes: Uint8Array): { pcm: Uint8Array; sampleRate?: number } {
  const text = (at: number) => String.fromCharCode(...bytes.subarray(at, at + 4));
  if (bytes.length < 12 || text(0) !== 'RIFF' || text(8) !== 'WAVE') return { pcm: bytes };
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let sampleRate: number | undefined;
  for (let at = 12; at + 8 <= bytes.length; ) {
    const size = view.getUint32(at + 4, true);
    if (text(at) === 'fmt ') sampleRate = view.getUint32(at + 12, true);
    if (text(at) === 'data') return { pcm: bytes.subarray(at + 8), ...(sampleRate ? { sampleRate } : {}) };
    at += 8 + size + (size % 2);
  }
  return { pcm: new Uint8Array(0) };
}

/** PlayAI's talk protocol with the `wav` output (docs/protocol.md). */
function playaiWire(): WireReader {
  let utterance = 0;
  let sampleRate = 24_000;
  return {
    fromServer(data) {
      const message = parse(data);
      const type = String(message?.type);
      if (type === 'newAudioStream') utterance += 1;
      if (type === 'voiceActivityStart') return { kind: 'bargeIn' };
      if (type === 'audioStream' && typeof message?.data === 'string') {
        const chunk = withoutWavHeader(decodeBase64(message.data));
        if (chunk.sampleRate) sampleRate = chunk.sampleRate;
        return {
          kind: 'agentAudio',
          utterance: String(utterance),
          samples: pcm16Samples(chunk.pcm),
          sampleRate,
        };
      }
      return { kind: 'other', type };
    },
    fromPage(data) {
      const message = parse(data);
      if (message === null) return null;
      if (message.type === 'audioIn' && typeof message.data === 'string')
        return { kind: 'micAudio', samples: pcm16Samples(decodeBase64(message.data)) };
      return { kind: 'control', type: String(message.type), message };
    },
  };
}

/** OpenAI Realtime, PCM16 at 24 kHz both ways (docs/providers.md). */
function openaiWire(): WireReader {
  return {
    fromServer(data) {
      const message = parse(data);
      const type = String(message?.type);
      if (type === 'input_audio_buffer.speech_started') return { kind: 'bargeIn' };
      if (type === 'response.output_audio.delta' && typeof message?.delta === 'string')
        return {
          kind: 'agentAudio',
          utterance: String(message.item_id),
          samples: pcm16Samples(decodeBase64(message.delta)),
          sampleRate: 24_000,
        };
      return { kind: 'other', type };
    },
    fromPage(data) {
      const message = parse(data);
      if (message === null) return null;
      if (message.type === 'input_audio_buffer.append' && typeof message.audio === 'string')
        return { kind: 'micAudio', samples: pcm16Samples(decodeBase64(message.audio)) };
      return { kind: 'control', type: String(message.type), message };
    },
  };
}

/** ElevenLabs Agents, PCM16 at the rate the server announces (docs/providers.md). */
function elevenlabsWire(): WireReader {
  let sampleRate = 16_000;
  return {
    fromServer(data) {
      const message = parse(data);
      const type = String(message?.type);
      if (type === 'conversation_initiation_metadata') {
        const meta = message?.conversation_initiation_metadata_event as Record<string, unknown> | undefined;
        const rate = /^pcm_(\d+)$/.exec(String(meta?.agent_output_audio_format))?.[1];
        if (rate) sampleRate = Number(rate);
      }
      if (type === 'interruption') return { kind: 'bargeIn' };
      const audio = message?.audio_event as Record<string, unknown> | undefined;
      if (type === 'audio' && typeof audio?.audio_base_64 === 'string')
        return {
          kind: 'agentAudio',
          utterance: String(audio.event_id),
          samples: pcm16Samples(decodeBase64(audio.audio_base_64)),
          sampleRate,
        };
      return { kind: 'other', type };
    },
    fromPage(data) {
      const message = parse(data);
      if (message === null) return null;
      if (typeof message.user_audio_chunk === 'string')
        return { kind: 'micAudio', samples: pcm16Samples(decodeBase64(message.user_audio_chunk)) };
      return { kind: 'control', type: String(message.type), message };
    },
  };
}
