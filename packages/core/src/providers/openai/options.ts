export interface OpenAIRealtimeOptions {
  /** The Realtime model. @defaultValue 'gpt-realtime' */
  model?: string;
  /** The voice (`marin`, `cedar`, `alloy`…). @defaultValue the model's */
  voice?: string;
  /** The system instructions. */
  instructions?: string;
  /**
   * The agent speaks first: `true` asks the model for a response as soon as the session is set up
   * (apps make the model greet this way); a string is what it should say; `false` waits for the
   * user. @defaultValue true
   */
  greeting?: boolean | string;
  /**
   * Server-side voice activity detection: OpenAI's `server_vad` or `semantic_vad`. Push-to-talk
   * turns it off (`turn_detection: null`) and commits the audio on release.
   * @defaultValue 'server_vad'
   */
  turnDetection?: 'server_vad' | 'semantic_vad';
  /**
   * The model that transcribes the user (the transcript's user turns); `null` turns the
   * transcription off. @defaultValue 'gpt-4o-mini-transcribe'
   */
  transcriptionModel?: string | null;
}

/** OpenAI's own endpoint. */
export const OPENAI_REALTIME_URL = 'wss://api.openai.com/v1/realtime';
