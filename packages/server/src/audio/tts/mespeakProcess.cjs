'use strict';
/**
 * Runs mespeak (eSpeak compiled to JavaScript) in a child process of the local agent.
 *
 * Why a process: synthesis is synchronous and takes 50–300 ms a sentence, which would stall every
 * session's event loop, and after several dozen calls mespeak's Emscripten file system corrupts
 * itself and V8 aborts the whole process ("Fatal JavaScript invalid size error"), which no
 * try/catch and no worker thread survives. The parent retires this process after a fixed number
 * of requests and restarts it if it dies, so neither can reach the agent.
 *
 * Protocol (IPC, advanced serialization): { id, text, voice, speed } in,
 * { id, wav: Uint8Array } or { id, error: string } out. Everything is loaded from the package's
 * files; nothing touches the network.
 */

// mespeak announces on load that it cannot play audio outside a browser; it only needs to render.
const warn = console.warn;
console.warn = () => {};
const meSpeak = require('mespeak');
console.warn = warn;

meSpeak.loadConfig(require('mespeak/src/mespeak_config.json'));

const loaded = new Set();
function ensureVoice(voice) {
  if (loaded.has(voice)) return;
  // The parent validates the name against the package's voice list before it gets here.
  meSpeak.loadVoice(require(`mespeak/voices/${voice}.json`));
  loaded.add(voice);
}

process.on('message', (request) => {
  const { id, text, voice, speed } = request;
  try {
    ensureVoice(voice);
    const log = console.log;
    console.log = () => {}; // mespeak logs its file-system recoveries to stdout
    let wav;
    try {
      wav = meSpeak.speak(text, { rawdata: 'array', voice: voiceId(voice), speed: Math.round(175 * speed) });
    } finally {
      console.log = log;
    }
    if (!wav || wav.length === 0) throw new Error('mespeak produced no audio');
    process.send({ id, wav: Uint8Array.from(wav) });
  } catch (error) {
    process.send({ id, error: error instanceof Error ? error.message : String(error) });
  }
});

/** mespeak names a loaded voice by its `voice_id` ("en/en-us"), which matches the file's path. */
function voiceId(voice) {
  return voice;
}

// The agent went away (or retired this process): nothing left to do.
process.on('disconnect', () => process.exit(0));
