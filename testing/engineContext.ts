import type { Engine } from './engines.ts';

/** What a browser project tells its tests about the engine they run in (testing/browserProject.ts). */
declare module 'vitest' {
  interface ProvidedContext {
    /** The engine this project runs in (engine differences are expected values per engine). */
    engine: Engine;
    /** Firefox and WebKit: the WAV the project's global set-up plays, looped, into the microphone. */
    engineMicFile: string;
    /** WebKit: the port of the project's WebKitWebDriver. */
    engineDriverPort: number;
    /** The project's name without vitest's instance suffix (names its sound server). */
    engineProject: string;
  }
}

/** The engine of the running browser test (import for its type augmentation too). */
export type { Engine };

/**
 * The browser commands of the Firefox and WebKit projects (`commands` from `vitest/browser`):
 * a real removal of one of the private PulseAudio's microphones, and its return
 * (testing/engines.ts, `microphoneCommands`).
 */
export interface MicrophoneCommands {
  unplugMicrophone(microphone: 'built-in' | 'headset'): Promise<void>;
  plugMicrophone(microphone: 'built-in' | 'headset'): Promise<void>;
}
