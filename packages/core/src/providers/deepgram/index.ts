/** `@voicewire/core/deepgram`: Deepgram's Voice Agent API as a voicewire provider (docs/providers.md). */
export {
  DEEPGRAM_AGENT_URL,
  type DeepgramAgentOptions,
  type DeepgramSettingsBlock,
  deepgramAgent,
} from './provider.ts';
