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
import { deepgramAgent } from '@voicewire/core/deepgram';
import { elevenlabs } from '@voicewire/core/elevenlabs';
import { geminiLive } from '@voicewire/core/gemini';
import { humeEvi } from '@voicewire/core/hume';
import { openaiRealtime } from '@voicewire/core/openai';
import { playai } from '@voicewire/core/playai';
import { type CredentialKind, LOCAL_AGENT_KEY } from './providerCredentials.ts';

/** One frame the server sent, as a test reads it. */
export type ServerFrame =
  /** Agent audio: the utterance it belongs to (a new key starts a new one) and its samples. */
  | { kind: 'agentAudio'; utterance: string; samples: Float32Array; sampleRate: number }
  /** The server heard the user start speaking over the agent. */
  | { kind: 'bargeIn' }
  /**
   * The server says the agent's utterance has all been sent (PlayAI's `audioStreamEnd`, OpenAI's
   * `response.output_audio.done`, Gemini's `turnComplete`, Deepgram's `AgentAudioDone`, Hume's
   * `assistant_end`; ElevenLabs has no such message).
   */
  | { kind: 'agentAudioEnd' }
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
  /**
   * A dropped connection reconnects and resumes the same conversation (else: `ended`, saying
   * why): how the new socket asks for it, the conversation id it names (PlayAI's
   * `continueConversation` in `setup`, Hume's `resumed_chat_group_id` in the URL, Gemini's
   * resumption handle in `setup`).
   */
  resumes: false | ((opening: { url: string; first: Record<string, unknown> }) => string | undefined);
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
  /** The server says when an utterance's audio has all been sent (a {@link ServerFrame} `agentAudioEnd`). */
  saysAudioEnds: boolean;
  /** What the page's error says when the agent fails mid-call (`?fault=error:4500:…`), in this vendor's terms. */
  serverError: { kind: string; message: RegExp };
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
    resumes: ({ first }) => asString(first.continueConversation),
    saysWhatWasSpoken: true,
    saysAudioEnds: true,
    pushToTalk: { pressed: [], released: [] },
    serverError: { kind: 'server-error', message: /4500/ },
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
    saysAudioEnds: true,
    pushToTalk: {
      pressed: ['input_audio_buffer.clear'],
      released: ['input_audio_buffer.commit', 'response.create'],
    },
    truncate: {
      type: 'conversation.item.truncate',
      heardMs: (message) => Number(message.audio_end_ms),
    },
    serverError: { kind: 'server-error', message: /4500/ },
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
    saysAudioEnds: false,
    pushToTalk: { pressed: [], released: [] },
    serverError: { kind: 'server-error', message: /4500/ },
    wire: elevenlabsWire,
  },
  {
    name: 'Gemini Live',
    path: '/ws/google.ai.generativelanguage.v1.GenerativeService.BidiGenerateContent',
    target: 'provider-suite-agent',
    provider: () => geminiLive({ model: 'provider-suite-agent', systemInstruction: 'Be brief.' }),
    options: {},
    credential: 'apiKey',
    // The newest resumption handle; the local agent's are `<session id>.<n>`.
    resumes: ({ first }) =>
      asString(asObject(asObject(first.setup).sessionResumption).handle)?.replace(/\.\d+$/, ''),
    saysWhatWasSpoken: false,
    saysAudioEnds: true,
    // `audioStreamEnd` closes the held turn.
    pushToTalk: { pressed: [], released: ['realtimeInput.audioStreamEnd'] },
    // No error message: the close (1011, its reason naming the fault) is all the page hears.
    serverError: { kind: 'server-error', message: /4500/ },
    wire: geminiWire,
  },
  {
    name: 'Deepgram',
    path: '/v1/agent/converse',
    target: 'provider-suite-agent',
    provider: () => deepgramAgent({ think: { prompt: 'Be brief.' } }),
    options: {},
    credential: 'apiKey',
    resumes: false,
    saysWhatWasSpoken: false,
    saysAudioEnds: true,
    pushToTalk: { pressed: [], released: ['ForceEndTurn'] },
    serverError: { kind: 'server-error', message: /4500/ },
    wire: deepgramWire,
  },
  {
    name: 'Hume EVI',
    path: '/v0/evi/chat',
    target: 'provider-suite-agent',
    provider: () => humeEvi({ configId: 'provider-suite-agent', systemPrompt: 'Be brief.' }),
    options: {},
    credential: 'apiKey',
    resumes: ({ url }) => new URL(url).searchParams.get('resumed_chat_group_id') ?? undefined,
    saysWhatWasSpoken: false,
    saysAudioEnds: true,
    pushToTalk: { pressed: [], released: [] },
    serverError: { kind: 'server-error', message: /4500/ },
    wire: humeWire,
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

function asObject(value: unknown): Record<string, unknown> {
  return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : {};
}

function asString(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

/** A binary frame's bytes (an ArrayBuffer or a view; a Blob cannot be read in step). */
function bytesOf(data: unknown): Uint8Array | null {
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  return null;
}

function parse(data: unknown): Record<string, unknown> | null {
  // Gemini sends its JSON in binary frames.
  const bytes = bytesOf(data);
  const text = bytes ? new TextDecoder().decode(bytes) : data;
  if (typeof text !== 'string') return null;
  try {
    const value = JSON.parse(text) as unknown;
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
      if (type === 'audioStreamEnd') return { kind: 'agentAudioEnd' };
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
      if (type === 'response.output_audio.done') return { kind: 'agentAudioEnd' };
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

/** Gemini Live: JSON both ways (the server's in binary frames), PCM16 at 16 kHz in, 24 kHz out (docs/providers.md). */
function geminiWire(): WireReader {
  let utterance = 0;
  /** A model turn's audio is streaming: the next audio after its end starts a new utterance. */
  let open = false;
  return {
    fromServer(data) {
      const message = parse(data);
      if (message === null) return { kind: 'other', type: 'invalid' };
      const content = asObject(message.serverContent);
      if (content.interrupted === true) {
        open = false;
        return { kind: 'bargeIn' };
      }
      const parts = asObject(content.modelTurn).parts;
      const audio = (Array.isArray(parts) ? parts : [])
        .map((part) => asObject(asObject(part).inlineData))
        .filter((inline) => typeof inline.data === 'string' && String(inline.mimeType).startsWith('audio/'));
      const ended = content.generationComplete === true || content.turnComplete === true;
      if (audio.length > 0) {
        if (!open) utterance += 1;
        open = !ended;
        const chunks = audio.map((inline) => pcm16Samples(decodeBase64(inline.data as string)));
        const samples = new Float32Array(chunks.reduce((n, c) => n + c.length, 0));
        let at = 0;
        for (const chunk of chunks) {
          samples.set(chunk, at);
          at += chunk.length;
        }
        const rate = /rate=(\d+)/.exec(String(audio[0]!.mimeType))?.[1];
        return {
          kind: 'agentAudio',
          utterance: String(utterance),
          samples,
          sampleRate: Number(rate ?? 24_000),
        };
      }
      if (ended) {
        open = false;
        return { kind: 'agentAudioEnd' };
      }
      return { kind: 'other', type: Object.keys(message)[0] ?? 'empty' };
    },
    fromPage(data) {
      const message = parse(data);
      if (message === null) return null;
      const input = asObject(message.realtimeInput);
      const audio = asObject(input.audio);
      if (typeof audio.data === 'string')
        return { kind: 'micAudio', samples: pcm16Samples(decodeBase64(audio.data)) };
      const type = Object.keys(message)[0] ?? 'empty';
      return {
        kind: 'control',
        type: type === 'realtimeInput' ? `realtimeInput.${Object.keys(input)[0]}` : type,
        message,
      };
    },
  };
}

/** Deepgram Voice Agent: audio in binary frames both ways, in the encodings `Settings` names (docs/providers.md). */
function deepgramWire(): WireReader {
  let utterance = 0;
  let sampleRate = 24_000;
  return {
    fromServer(data) {
      const bytes = bytesOf(data);
      // `AgentStartedSpeaking` starts each utterance; audio still on its way after a barge-in is the cut one's.
      if (bytes)
        return {
          kind: 'agentAudio',
          utterance: String(Math.max(utterance, 1)),
          samples: pcm16Samples(bytes),
          sampleRate,
        };
      const message = parse(data);
      const type = String(message?.type);
      if (type === 'AgentStartedSpeaking') utterance += 1;
      if (type === 'UserStartedSpeaking') return { kind: 'bargeIn' };
      if (type === 'AgentAudioDone') return { kind: 'agentAudioEnd' };
      return { kind: 'other', type };
    },
    fromPage(data) {
      const bytes = bytesOf(data);
      if (bytes) return { kind: 'micAudio', samples: pcm16Samples(bytes) };
      const message = parse(data);
      if (message === null) return null;
      if (message.type === 'Settings') {
        const rate = asObject(asObject(message.audio).output).sample_rate;
        if (typeof rate === 'number') sampleRate = rate;
      }
      return { kind: 'control', type: String(message.type), message };
    },
  };
}

/** Hume EVI: `audio_output` a WAV file per chunk, `audio_input` PCM16 (docs/providers.md). */
function humeWire(): WireReader {
  return {
    fromServer(data) {
      const message = parse(data);
      const type = String(message?.type);
      if (type === 'user_interruption') return { kind: 'bargeIn' };
      if (type === 'assistant_end') return { kind: 'agentAudioEnd' };
      if (type === 'audio_output' && typeof message?.data === 'string') {
        const chunk = withoutWavHeader(decodeBase64(message.data));
        return {
          kind: 'agentAudio',
          utterance: String(message.id),
          samples: pcm16Samples(chunk.pcm),
          sampleRate: chunk.sampleRate ?? 48_000,
        };
      }
      return { kind: 'other', type };
    },
    fromPage(data) {
      const message = parse(data);
      if (message === null) return null;
      if (message.type === 'audio_input' && typeof message.data === 'string')
        return { kind: 'micAudio', samples: pcm16Samples(decodeBase64(message.data)) };
      return { kind: 'control', type: String(message.type), message };
    },
  };
}
