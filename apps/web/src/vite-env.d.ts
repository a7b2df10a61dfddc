/// <reference types="vite/client" />

interface ImportMetaEnv {
  /** Overrides the default server URL (the local agent on port 8787). */
  readonly VITE_VOICEWIRE_SERVER?: string;
}
