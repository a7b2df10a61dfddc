/**
 * `@voicewire/core/playai`: PlayAI's agent talk protocol as a voicewire provider (docs/protocol.md),
 * the default of a conversation without one. Its messages and parsers, for servers and tools
 * that speak the protocol, are `@voicewire/core/playai/protocol`.
 */
export { OUTPUT_FORMATS, type OutputFormat } from './messages.ts';
export { DEFAULT_PLAYAI_INPUT, DEFAULT_PLAYAI_OUTPUT, type PlayAIOptions } from './options.ts';
export { playai } from './provider.ts';
