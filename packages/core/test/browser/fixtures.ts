/** The test tone every output format carries (shared by the Node set-up and the browser tests). */
export const PLAYER_TEST_TONE_HZ = 880;
export const PLAYER_TEST_RATE = 24_000;
export const PLAYER_TEST_SECONDS = 1;
export const PLAYER_TEST_AMPLITUDE = 0.5;
/** Mirrors vitest.browser.config.ts: the fake microphone's tones. */
export const FAKE_MIC_TONE_AMPLITUDE = 0.25;
