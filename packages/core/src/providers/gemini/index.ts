/** `@voicewire/core/gemini`: Gemini Live as a voicewire provider (docs/providers.md). */
export { GEMINI_LIVE_URL, type GeminiLiveOptions, geminiLive } from './provider.ts';
