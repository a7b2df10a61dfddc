/** `@voicewire/core/hume`: Hume's Empathic Voice Interface as a voicewire provider (docs/providers.md). */
export { HUME_EVI_URL, type HumeEviOptions, humeEvi } from './provider.ts';
