/** `@voicewire/core/elevenlabs`: ElevenLabs Agents as a voicewire provider (docs/providers.md). */
export { ELEVENLABS_CONVERSATION_URL, type ElevenLabsOptions, elevenlabs } from './provider.ts';
