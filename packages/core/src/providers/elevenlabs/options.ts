export interface ElevenLabsOptions {
  /** The agent (public, or private behind a signed URL or a relay). */
  agentId: string;
  /** Overrides of the agent's configuration for this conversation (each must be allowed in the agent's settings). */
  overrides?: {
    /** The system prompt. */
    prompt?: string;
    /** What the agent says first. */
    firstMessage?: string;
    /** The voice. */
    voiceId?: string;
    /** The language, as an ISO 639-1 code (`en`, `fr`…). */
    language?: string;
  };
  /** Values for the agent's dynamic variables (`{{name}}` in its prompt). */
  dynamicVariables?: Record<string, string | number | boolean>;
}

/** ElevenLabs' own endpoint. */
export const ELEVENLABS_CONVERSATION_URL = 'wss://api.elevenlabs.io/v1/convai/conversation';
