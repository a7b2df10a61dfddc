/**
 * @voicewire/server: the Node side of voicewire. The local agent (a protocol-faithful stand-in for
 * the talk service), its audio (offline speech synthesis, output encoders, input decoders), and
 * the relay (keeps the API key on the server).
 */
export * from './agent/index.ts';
export * from './audio/index.ts';
export * from './relay/index.ts';
