#!/usr/bin/env node
/**
 * `voicewire-agent`: run the local agent from a shell.
 *
 *   pnpm agent -- --port 8787
 *   node packages/server/bin/voicewire-agent.mjs --port 0 --api-key dev-key
 */
import { parseArgs } from 'node:util';
import type { ApiKeyGrant, ElevenLabsFormat } from '../agent/index.ts';

const ELEVENLABS_FORMATS = [
  'pcm_8000',
  'pcm_16000',
  'pcm_22050',
  'pcm_24000',
  'pcm_44100',
  'pcm_48000',
  'ulaw_8000',
];

const HELP = `voicewire-agent: a local voice agent that speaks PlayAI's talk protocol, OpenAI Realtime,
ElevenLabs Agents, Gemini Live, Deepgram's Voice Agent and Hume EVI, each at the vendor's path,
on one port

Usage: voicewire-agent [options]

Options:
  --port <n>              TCP port, 0 for any free one (default 8787)
  --host <addr>           interface to listen on (default 127.0.0.1)
  --api-key <key>         accept only this key (repeatable), on every protocol, and the tokens minted
                          from it; KEY@agentA,agentB limits the key to those agents (OpenAI: models).
                          Without it, any non-empty key is accepted.
  --allow-anonymous       accept a connection without a key, as the services do for public agents
                          (PlayAI's and ElevenLabs' browser SDKs send none); a given key is still checked
  --agent-id <id>         serve only this agent id, OpenAI or Gemini model, Hume config id, or
                          "deepgram" (repeatable; default: any valid id)
  --max-connections <n>   concurrent conversations before new ones are refused (default unlimited)
  --silence-ms <ms>       silence that ends the user's turn (default 600)
  --greeting <text>       what the agent says first (default: a short introduction)
  --hangup-after-turns <n>  end each call after n replies: a goodbye, then close 1000
  --openai-greeting <when>  on-request (the client's first response.create, default) or auto (once
                          the first session.update is answered)
  --elevenlabs-input-format <f>   user_input_audio_format announced (default pcm_16000)
  --elevenlabs-output-format <f>  agent_output_audio_format announced (default pcm_16000);
                          ${ELEVENLABS_FORMATS.join(', ')}
  --elevenlabs-ping-ms <ms>  ElevenLabs ping interval (default 2000)
  --gemini-greeting <when>  auto (once setupComplete is sent, default) or on-request (the client's
                          first empty clientContent { turnComplete: true })
  --gemini-connection-lifetime-ms <ms>  close each Gemini connection after this long (1011), with a
                          goAway before; the client resumes with its handle (default: never)
  --deepgram-client-timeout-ms <ms>  drop a Deepgram client that sends nothing for this long, not even
                          KeepAlive (default 10000)
  --quiet                 no log lines
  -h, --help              show this help

Protocols (see @voicewire/server's README and docs/providers.md):
  PlayAI       ws://HOST:PORT/v1/talk/<agentId> (or ws://HOST:PORT/v1/agents/<agentId>/start-conversation);
               send {"type":"setup","apiKey":"..."} first
  OpenAI       ws://HOST:PORT/v1/realtime?model=<model>; Authorization: Bearer <key>, or the
               subprotocols realtime + openai-insecure-api-key.<key>; POST /v1/realtime/client_secrets
               mints ek_ keys
  ElevenLabs   ws://HOST:PORT/v1/convai/conversation?agent_id=<agentId> (subprotocol convai); xi-api-key,
               or a signed URL from GET /v1/convai/conversation/get-signed-url?agent_id=<agentId>
  Gemini       ws://HOST:PORT/ws/google.ai.generativelanguage.v1.GenerativeService.BidiGenerateContent?key=<key>
               (@google/genai: httpOptions.baseUrl http://HOST:PORT); POST /v1alpha/auth_tokens mints
               ephemeral tokens for …BidiGenerateContentConstrained?access_token=
  Deepgram     ws://HOST:PORT/v1/agent/converse; Authorization: Token <key>, or the subprotocols token,
               <key>; POST /v1/auth/grant grants bearer tokens
  Hume         ws://HOST:PORT/v0/evi/chat?api_key=<key> (or access_token= from POST /oauth2-cc/token)
Per call, in the URL query: ?hangupAfterTurns=N, and faults for testing: ?fault=drop:MS,
?fault=error:CODE:MS, ?fault=garbage.
`;

function fail(message: string): never {
  process.stderr.write(`voicewire-agent: ${message}\n\n${HELP}`);
  process.exit(2);
}

function integer(name: string, value: string | undefined, min: number, max: number): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < min || n > max)
    fail(`--${name} must be an integer from ${min} to ${max}, got "${value}"`);
  return n;
}

function oneOf<T extends string>(
  name: string,
  value: string | undefined,
  allowed: readonly T[],
): T | undefined {
  if (value === undefined) return undefined;
  if (!(allowed as readonly string[]).includes(value))
    fail(`--${name} must be one of ${allowed.join(', ')}, got "${value}"`);
  return value as T;
}

function parseKey(spec: string): string | ApiKeyGrant {
  const at = spec.lastIndexOf('@');
  if (at <= 0) return spec;
  const agentIds = spec
    .slice(at + 1)
    .split(',')
    .map((id) => id.trim())
    .filter((id) => id !== '');
  return agentIds.length > 0 ? { key: spec.slice(0, at), agentIds } : spec;
}

async function main(argv: string[]): Promise<void> {
  // `pnpm agent -- --port 8787` hands the `--` through.
  const args = argv[0] === '--' ? argv.slice(1) : argv;
  let parsed: ReturnType<typeof parseOptions>;
  try {
    parsed = parseOptions(args);
  } catch (error) {
    fail(error instanceof Error ? error.message : String(error));
  }
  const { values } = parsed;
  if (values.help) {
    process.stdout.write(HELP);
    return;
  }
  // Loaded after the arguments are read, so --help and a typo answer at once.
  const { startLocalAgent } = await import('../agent/index.ts');
  const agent = await startLocalAgent({
    port: integer('port', values.port, 0, 65_535) ?? 8787,
    host: values.host ?? '127.0.0.1',
    apiKeys: values['api-key']?.length ? values['api-key'].map(parseKey) : undefined,
    agentIds: values['agent-id']?.length ? values['agent-id'] : undefined,
    maxConnections: integer('max-connections', values['max-connections'], 0, 1_000_000),
    silenceMs: integer('silence-ms', values['silence-ms'], 50, 10_000),
    greeting: values.greeting,
    allowAnonymous: values['allow-anonymous'] ?? false,
    hangupAfterTurns: integer('hangup-after-turns', values['hangup-after-turns'], 1, 10_000),
    openaiGreeting: oneOf('openai-greeting', values['openai-greeting'], ['on-request', 'auto'] as const),
    elevenlabs: {
      userInputAudioFormat: oneOf(
        'elevenlabs-input-format',
        values['elevenlabs-input-format'],
        ELEVENLABS_FORMATS,
      ) as ElevenLabsFormat | undefined,
      agentOutputAudioFormat: oneOf(
        'elevenlabs-output-format',
        values['elevenlabs-output-format'],
        ELEVENLABS_FORMATS,
      ) as ElevenLabsFormat | undefined,
      pingIntervalMs: integer('elevenlabs-ping-ms', values['elevenlabs-ping-ms'], 100, 600_000),
    },
    gemini: {
      greeting: oneOf('gemini-greeting', values['gemini-greeting'], ['auto', 'on-request'] as const),
      connectionLifetimeMs: integer(
        'gemini-connection-lifetime-ms',
        values['gemini-connection-lifetime-ms'],
        100,
        86_400_000,
      ),
    },
    deepgram: {
      clientTimeoutMs: integer(
        'deepgram-client-timeout-ms',
        values['deepgram-client-timeout-ms'],
        100,
        3_600_000,
      ),
    },
    log: !values.quiet,
  }).catch((error: unknown) => fail(error instanceof Error ? error.message : String(error)));

  process.stdout.write(`voicewire local agent listening on ${agent.url}/<agentId>\n`);
  process.stdout.write(
    `  e.g. ${agent.url}/demo-agent   (health: http://${new URL(agent.url).host}/health)\n`,
  );
  process.stdout.write(`  OpenAI Realtime:   ${agent.origin}/v1/realtime?model=<model>\n`);
  process.stdout.write(`  ElevenLabs Agents: ${agent.origin}/v1/convai/conversation?agent_id=<agentId>\n`);
  process.stdout.write(
    `  Gemini Live:       ${agent.origin}/ws/google.ai.generativelanguage.v1.GenerativeService.BidiGenerateContent?key=<key>\n`,
  );
  process.stdout.write(`  Deepgram:          ${agent.origin}/v1/agent/converse\n`);
  process.stdout.write(`  Hume EVI:          ${agent.origin}/v0/evi/chat?api_key=<key>\n`);

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) process.exit(1);
    stopping = true;
    process.stdout.write(`voicewire-agent: ${signal}, closing\n`);
    agent.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}

function parseOptions(args: string[]) {
  return parseArgs({
    args,
    allowPositionals: false,
    strict: true,
    options: {
      port: { type: 'string' },
      host: { type: 'string' },
      'api-key': { type: 'string', multiple: true },
      'agent-id': { type: 'string', multiple: true },
      'max-connections': { type: 'string' },
      'silence-ms': { type: 'string' },
      greeting: { type: 'string' },
      'allow-anonymous': { type: 'boolean' },
      'hangup-after-turns': { type: 'string' },
      'openai-greeting': { type: 'string' },
      'elevenlabs-input-format': { type: 'string' },
      'elevenlabs-output-format': { type: 'string' },
      'elevenlabs-ping-ms': { type: 'string' },
      'gemini-greeting': { type: 'string' },
      'gemini-connection-lifetime-ms': { type: 'string' },
      'deepgram-client-timeout-ms': { type: 'string' },
      quiet: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
}

await main(process.argv.slice(2));
