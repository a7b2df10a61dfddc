/**
 * `@voicewire/core/playai`: PlayAI's agent talk protocol (docs/protocol.md). `playai()` is the
 * provider (the default of a conversation without one); the rest are the protocol's messages
 * and helpers, for servers and tools that speak it (the local agent and the relay use them).
 */

export * from './errorCodes.ts';
export * from './messages.ts';
export * from './parseClientMessage.ts';
export * from './parseServerMessage.ts';
export { DEFAULT_PLAYAI_INPUT, DEFAULT_PLAYAI_OUTPUT, type PlayAIOptions, playai } from './provider.ts';
export { buildSocketUrl, DEFAULT_TALK_URL } from './socketUrl.ts';
export * from './validateSetup.ts';
