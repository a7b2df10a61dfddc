/**
 * The conversation with `elevenlabs()` against a real WebSocket server on 127.0.0.1 playing
 * ElevenLabs' side as its agents' WebSocket protocol does (docs/providers.md). The audio engine
 * is faked (Node has no microphone): what goes on the wire is real.
 */
import { decodeBase64, encodeBase64 } from '@voicewire/core';
import { elevenlabs } from '@voicewire/core/elevenlabs';
import { describe, expect, it } from 'vitest';
import { until, useVendorServer, type VendorServer } from './vendorServer.ts';

let vendor: VendorServer;
const { call } = useVendorServer({
  path: '/v1/convai/conversation',
  provider: () =>
    elevenlabs({
      agentId: 'agent_1',
      overrides: { prompt: 'Be brief.', firstMessage: 'Hi there!', voiceId: 'voice_9', language: 'en' },
    }),
  onServer: (server) => {
    vendor = server;
  },
});

const metadata = (input = 'pcm_16000', output = 'pcm_16000') => ({
  type: 'conversation_initiation_metadata',
  conversation_initiation_metadata_event: {
    conversation_id: 'conv_1',
    agent_output_audio_format: output,
    user_input_audio_format: input,
  },
});

async function open(conversation: ReturnType<typeof call>['conversation'], meta = metadata()) {
  const started = conversation.start();
  await vendor.connections(1);
  await until(() => vendor.messages('conversation_initiation_client_data').length === 1, 'the client data');
  vendor.send(meta);
  await started;
}

function audioEvent(eventId: number, ms: number) {
  const bytes = new Uint8Array(Math.round(16 * ms) * 2).fill(7);
  return { type: 'audio', audio_event: { audio_base_64: encodeBase64(bytes), event_id: eventId } };
}

describe('elevenlabs', () => {
  it('opens /v1/convai/conversation?agent_id= with the convai subprotocol and sends the overrides first', async () => {
    const { conversation } = call();
    await open(conversation);
    expect(vendor.handshakes[0]?.path).toBe('/v1/convai/conversation');
    expect(vendor.handshakes[0]?.query.get('agent_id')).toBe('agent_1');
    expect(vendor.handshakes[0]?.protocols).toEqual(['convai']);
    const first = vendor.received[0];
    expect(first && 'json' in first ? first.json : null).toEqual({
      type: 'conversation_initiation_client_data',
      conversation_config_override: {
        agent: { prompt: { prompt: 'Be brief.' }, first_message: 'Hi there!', language: 'en' },
        tts: { voice_id: 'voice_9' },
      },
    });
    expect(conversation.store.getState()).toMatchObject({ status: 'connected', conversationId: 'conv_1' });
  });

  it('sends user_audio_chunk of 16 kHz PCM16, without a type, once the server has announced the formats', async () => {
    const { conversation, audio } = call();
    await open(conversation);
    audio.capture!.emitFrames(3);
    await until(() => vendor.messages(undefined).length === 3, 'three chunks');
    const chunk = vendor.messages(undefined)[0]!;
    expect(Object.keys(chunk)).toEqual(['user_audio_chunk']);
    expect(decodeBase64(chunk.user_audio_chunk as string).length).toBe(640);
  });

  it('plays each response as a stream, writes the agent and user turns, answers pings', async () => {
    const { conversation, audio } = call();
    await open(conversation);
    vendor.send({
      type: 'agent_response',
      agent_response_event: { agent_response: 'Hi there!', event_id: 1 },
    });
    vendor.send(audioEvent(1, 20));
    vendor.send(audioEvent(1, 20));
    vendor.send({ type: 'ping', ping_event: { event_id: 7, ping_ms: 12 } });
    await until(() => vendor.messages('pong').length === 1, 'the pong');
    expect(vendor.messages('pong')[0]).toEqual({ type: 'pong', event_id: 7 });
    vendor.send({
      type: 'user_transcript',
      user_transcription_event: { user_transcript: 'Hello.', event_id: 2 },
    });
    vendor.send({
      type: 'agent_response',
      agent_response_event: { agent_response: 'How can I help?', event_id: 3 },
    });
    vendor.send(audioEvent(3, 20));
    await until(() => conversation.store.getState().transcript.length === 3, 'three turns');
    expect(conversation.store.getState().transcript.map((t) => [t.role, t.text])).toEqual([
      ['agent', 'Hi there!'],
      ['user', 'Hello.'],
      ['agent', 'How can I help?'],
    ]);
    await until(() => audio.player?.enqueued.length === 3, 'the audio');
    expect(audio.player!.calls.filter((c) => c === 'newStream')).toHaveLength(2);
    expect(audio.player!.options).toMatchObject({ format: 'pcm16', sampleRate: 16000 });
  });

  it('an interruption silences the agent, drops the rest of that response, and keeps what was said', async () => {
    const { conversation, audio } = call();
    await open(conversation);
    vendor.send({
      type: 'agent_response',
      agent_response_event: { agent_response: 'Let me tell you a long story about it.', event_id: 4 },
    });
    vendor.send(audioEvent(4, 100));
    await until(() => audio.player?.enqueued.length === 1, 'the audio');
    audio.player!.emitStarted();
    vendor.send({ type: 'interruption', interruption_event: { event_id: 5 } });
    await until(() => audio.player!.calls.includes('interrupt'), 'the interrupt');
    expect(conversation.store.getState().mode).toBe('userSpeaking');
    expect(conversation.store.getState().transcript[0]?.interrupted).toBe(true);
    vendor.send(audioEvent(4, 100));
    vendor.send({
      type: 'agent_response_correction',
      agent_response_correction_event: {
        original_agent_response: 'Let me tell you a long story about it.',
        corrected_agent_response: 'Let me tell you',
      },
    });
    await until(
      () => conversation.store.getState().transcript[0]?.text === 'Let me tell you',
      'the correction',
    );
    expect(audio.player!.enqueued).toHaveLength(1);
    // The next response plays.
    vendor.send(audioEvent(6, 20));
    await until(() => audio.player!.enqueued.length === 2, 'the next response');
  });

  it('follows the formats the server announces: μ-law at 8 kHz in, PCM at 22.05 kHz out', async () => {
    const { conversation, audio } = call();
    await open(conversation, metadata('ulaw_8000', 'pcm_22050'));
    await until(() => audio.player !== undefined, 'the player');
    expect(audio.player!.format).toBe('pcm16');
    expect(audio.player!.sampleRate).toBe(22050);
    expect(audio.capture!.encoding).toBe('mulaw');
    expect(audio.capture!.sampleRate).toBe(8000);
  });

  it('a signed URL from getToken is the socket URL; a relay token goes in the query', async () => {
    const signed = call({
      getToken: () => `${vendor.origin}/v1/convai/conversation?agent_id=agent_1&conversation_signature=sig`,
    });
    await open(signed.conversation);
    expect(vendor.handshakes[0]?.query.get('conversation_signature')).toBe('sig');
    await signed.conversation.stop();
    const relayed = call({ token: 'relay.token' });
    const started = relayed.conversation.start();
    await vendor.connections(2);
    vendor.send(metadata());
    await started;
    expect(vendor.handshakes[1]?.query.get('token')).toBe('relay.token');
    expect(vendor.handshakes[1]?.query.get('agent_id')).toBe('agent_1');
  });

  it('text input is a user_message', async () => {
    const { conversation } = call();
    await open(conversation);
    conversation.sendCustomInput('Spell it.');
    await until(() => vendor.messages('user_message').length === 1, 'the message');
    expect(vendor.messages('user_message')[0]).toEqual({ type: 'user_message', text: 'Spell it.' });
  });

  it('the agent ending the call (close 1000) drains and ends; a drop ends it saying it cannot resume', async () => {
    const ended = call();
    await open(ended.conversation);
    vendor.close(1000);
    await until(() => ended.conversation.store.getState().status === 'ended', 'the end');
    expect(ended.conversation.store.getState().error).toBeNull();
    await ended.conversation.stop();

    const dropped = call({ reconnect: { initialDelayMs: 1 } });
    const started = dropped.conversation.start();
    await vendor.connections(2);
    vendor.send(metadata());
    await started;
    vendor.drop();
    await until(() => dropped.conversation.store.getState().status === 'ended', 'the end');
    expect(dropped.conversation.store.getState().error?.message).toMatch(/cannot be resumed/);
    expect(vendor.handshakes).toHaveLength(2);
  });

  it('malformed frames are reported, never thrown; an error event is reported and the call goes on', async () => {
    const errors: unknown[] = [];
    const { conversation } = call({ onError: (e) => errors.push(e) });
    await open(conversation);
    vendor.send('{');
    vendor.send({ type: 'audio', audio_event: { audio_base_64: '***', event_id: 9 } });
    vendor.send({ type: 'error', error_event: { code: 1011, message: 'Hiccup.', error_type: 'internal' } });
    await until(() => errors.length === 3, 'three errors');
    expect(errors[2]).toMatchObject({ kind: 'server-error', message: 'Hiccup.', fatal: false });
    expect(conversation.store.getState().status).toBe('connected');
  });
});
