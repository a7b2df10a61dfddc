/** One of the `Settings` message's `agent` blocks, as Deepgram documents it (snake_case keys). */
export type DeepgramSettingsBlock = Record<string, unknown>;

export interface DeepgramAgentOptions {
  /** Speech to text: `{ provider: { type: 'deepgram', version: 'v1', model: 'nova-3' } }`. @defaultValue Deepgram's */
  listen?: DeepgramSettingsBlock;
  /** The language model and its prompt: `{ provider: { type: 'open_ai', model: 'gpt-4o-mini' }, prompt }`, or several. */
  think?: DeepgramSettingsBlock | DeepgramSettingsBlock[];
  /** Text to speech: `{ provider: { type: 'deepgram', model: 'aura-2-thalia-en' } }`, or several. @defaultValue Deepgram's */
  speak?: DeepgramSettingsBlock | DeepgramSettingsBlock[];
  /** What the agent says first. */
  greeting?: string;
  /**
   * How often the client sends `KeepAlive` (Deepgram closes a socket that hears nothing for about
   * 10 s, e.g. between push-to-talk turns). @defaultValue 5000
   */
  keepAliveMs?: number;
}

/** Deepgram's own endpoint. */
export const DEEPGRAM_AGENT_URL = 'wss://agent.deepgram.com/v1/agent/converse';
