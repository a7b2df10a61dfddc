export interface GeminiLiveOptions {
  /** The Live model (`models/` is added when missing). @defaultValue 'gemini-live-2.5-flash-preview' */
  model?: string;
  /** The system instruction. */
  systemInstruction?: string;
  /** A prebuilt voice (`Puck`, `Kore`, `Aoede`…). @defaultValue the model's */
  voice?: string;
}

/** Google's own endpoint (API keys; ephemeral `auth_tokens/…` go to its v1alpha `…Constrained` twin). */
export const GEMINI_LIVE_URL =
  'wss://generativelanguage.googleapis.com/ws/google.ai.generativelanguage.v1.GenerativeService.BidiGenerateContent';
