import type { ConversationError, ConversationStatus } from '@voicewire/react';

export interface FriendlyMessage {
  /** One short line: what happened. */
  title: string;
  /** What to do about it. */
  hint: string;
  /** `error` stops the conversation; `warning` is being retried or was survived. */
  tone: 'error' | 'warning';
}

interface Context {
  server: string;
  /** What the service was asked for by name: `agent “demo-agent”`, `model “gpt-realtime”`. */
  target: string;
  outputFormat: string;
  usingToken: boolean;
}

/**
 * The message a visitor sees for each kind of error. The library's own `message` is technical
 * (it names codes and fields); these say what happened and what to do next.
 */
export function friendlyError(error: ConversationError, context: Context): FriendlyMessage {
  const credential = context.usingToken ? 'relay token' : 'API key';
  const tone: FriendlyMessage['tone'] = error.fatal ? 'error' : 'warning';
  switch (error.kind) {
    case 'unauthorized':
      return {
        title: `The agent refused this ${credential}.`,
        hint: context.usingToken
          ? 'The token may have expired or belong to another agent or site. Mint a new one and try again.'
          : 'Check the API key in Settings. In production, connect through the relay so the key never reaches the browser.',
        tone: 'error',
      };
    case 'agent-not-found':
      return {
        title: `The service has no ${context.target}.`,
        hint: `Check the ${context.target.split(' ')[0]} in Settings.`,
        tone: 'error',
      };
    case 'insufficient-credits':
      return {
        title: 'This account has run out of credits.',
        hint: 'Top up the account that owns the API key, then try again.',
        tone: 'error',
      };
    case 'invalid-parameters':
      return {
        title: 'The agent rejected the session settings.',
        hint: `Check the input and output formats and rates in Settings. (${error.message})`,
        tone: 'error',
      };
    case 'too-many-connections':
      return error.fatal
        ? {
            title: 'Too many conversations are open on this account.',
            hint: 'Close another conversation or wait a minute, then try again.',
            tone: 'error',
          }
        : {
            title: 'The agent is busy right now.',
            hint: 'Trying again in a moment…',
            tone: 'warning',
          };
    case 'server-error':
      return error.fatal
        ? {
            title: 'The agent ran into a problem.',
            hint: 'Please try again in a few moments.',
            tone: 'error',
          }
        : { title: 'The agent ran into a problem.', hint: 'Reconnecting…', tone: 'warning' };
    case 'network':
      return error.fatal
        ? {
            title: 'Cannot reach the agent.',
            hint: `Nothing answered at ${context.server}. Is the agent running? (\`pnpm agent\` starts the local one.)`,
            tone: 'error',
          }
        : { title: 'The connection dropped.', hint: 'Reconnecting…', tone: 'warning' };
    case 'timeout':
      return {
        title: 'The agent did not answer in time.',
        hint: `Check the server URL (${context.server}) and try again.`,
        tone,
      };
    case 'protocol':
      return {
        title: 'The agent sent something this page could not understand.',
        hint: 'It was skipped; the conversation goes on.',
        tone: 'warning',
      };
    case 'decode':
      return {
        title: `The agent's audio (${context.outputFormat || 'default format'}) could not be played.`,
        hint: 'Try another output format in Settings.',
        tone,
      };
    case 'microphone-permission-denied':
      return {
        title: 'The microphone is blocked.',
        hint: 'Allow microphone access for this site (the icon in the address bar), then try again.',
        tone: 'error',
      };
    case 'microphone-not-found':
      return {
        title: 'No microphone was found.',
        hint: 'Plug in or enable a microphone, then try again.',
        tone: 'error',
      };
    case 'microphone-lost':
      return {
        title: 'The microphone was disconnected.',
        hint: 'Reconnect it, then try again.',
        tone: 'error',
      };
    case 'microphone-unavailable':
      return {
        title: 'The microphone could not be started.',
        hint: 'Another app may be using it. Close that app, then try again.',
        tone: 'error',
      };
    case 'audio-context':
      return {
        title: 'This browser could not start audio.',
        hint: 'Try again; if it keeps failing, reload the page.',
        tone: 'error',
      };
    case 'unsupported':
      return {
        title: 'This browser cannot run voice conversations.',
        hint: 'Use a recent Chrome, Edge, Firefox or Safari.',
        tone: 'error',
      };
    case 'invalid-options':
      return { title: 'The settings are not valid.', hint: error.message, tone: 'error' };
    default:
      return { title: 'Something went wrong.', hint: error.message, tone };
  }
}

/** A banner for states that are not errors but need saying (the socket is being re-opened). */
export function statusNotice(status: ConversationStatus): FriendlyMessage | null {
  if (status === 'reconnecting') {
    return {
      title: 'Connection lost: reconnecting…',
      hint: 'The conversation will pick up where it left off.',
      tone: 'warning',
    };
  }
  return null;
}
