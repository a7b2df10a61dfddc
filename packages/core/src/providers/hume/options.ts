export interface HumeEviOptions {
  /** The EVI configuration (voice, prompt, language model) made in Hume's platform. @defaultValue Hume's default */
  configId?: string;
  /** A system prompt for this session, replacing the configuration's. */
  systemPrompt?: string;
  /** A voice for this session, replacing the configuration's. */
  voiceId?: string;
}

/** Hume's own endpoint. */
export const HUME_EVI_URL = 'wss://api.hume.ai/v0/evi/chat';
