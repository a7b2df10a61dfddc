/**
 * `@voicewire/core/playai/protocol`: PlayAI's agent talk protocol (docs/protocol.md) for servers
 * and tools that speak it (the local agent and the relay use these): every message's type, the
 * parsers that never throw, the `setup` check, the error codes and the socket URL.
 */
export * from './errorCodes.ts';
export * from './messages.ts';
export * from './parseClientMessage.ts';
export * from './parseServerMessage.ts';
export { buildSocketUrl, DEFAULT_TALK_URL } from './socketUrl.ts';
export * from './validateSetup.ts';
