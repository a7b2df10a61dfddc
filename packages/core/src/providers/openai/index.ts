/** `@voicewire/core/openai`: OpenAI's Realtime API as a voicewire provider (docs/providers.md). */
export { OPENAI_REALTIME_URL, type OpenAIRealtimeOptions, openaiRealtime } from './provider.ts';
