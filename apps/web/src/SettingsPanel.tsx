import { DEFAULT_PLAYAI_OUTPUT, OUTPUT_FORMATS } from '@voicewire/core/playai';

const DEFAULT_OUTPUT_FORMAT = DEFAULT_PLAYAI_OUTPUT.format;
const DEFAULT_OUTPUT_SAMPLE_RATE_HZ = DEFAULT_PLAYAI_OUTPUT.sampleRate;

import { type FormEvent, useEffect, useId, useState } from 'react';
import { DEMO_PROVIDERS, type DemoProvider, PROVIDER_PROFILES, serverForProvider } from './providers.ts';
import {
  type DemoSettings,
  defaultSettings,
  INPUT_ENCODING_CHOICES,
  INPUT_RATE_CHOICES,
  OUTPUT_RATE_CHOICES,
  settingsToQuery,
  usesRelay,
} from './settings.ts';
import { useSessionDescription } from './useSessionDescription.ts';

interface Props {
  settings: DemoSettings;
  /** Settings given in the URL query (they win over saved ones). */
  fromQuery: readonly (keyof DemoSettings)[];
  live: boolean;
  onSave: (settings: DemoSettings) => void;
}

type Credential = 'apiKey' | 'token';

const FORMAT_LABELS: Record<string, string> = {
  mp3: 'mp3 (128 kbps)',
  raw: 'raw (PCM float32)',
  wav: 'wav (16-bit PCM)',
  ogg: 'ogg (Vorbis)',
  flac: 'flac (16-bit)',
  mulaw: 'mulaw (8-bit G.711)',
};

function rateLabel(rate: number): string {
  return `${(rate / 1000).toLocaleString('en', { maximumFractionDigits: 2 })} kHz`;
}

/**
 * Where the page connects and how. Edits are a draft until saved; saved settings go to
 * localStorage and apply from the next conversation on.
 */
export function SettingsPanel({ settings, fromQuery, live, onSave }: Props) {
  const [draft, setDraft] = useState(settings);
  const [credential, setCredential] = useState<Credential>(usesRelay(settings) ? 'token' : 'apiKey');
  const [saved, setSaved] = useState(false);
  const id = useId();

  useEffect(() => {
    setDraft(settings);
    setCredential(usesRelay(settings) ? 'token' : 'apiKey');
  }, [settings]);

  const update = <K extends keyof DemoSettings>(key: K, value: DemoSettings[K]) => {
    setSaved(false);
    setDraft((current) => ({ ...current, [key]: value }));
  };

  const submit = (event: FormEvent) => {
    event.preventDefault();
    onSave(credential === 'apiKey' ? { ...draft, token: '', tokenEndpoint: '' } : draft);
    setSaved(true);
  };

  const reset = () => {
    setSaved(false);
    setDraft(defaultSettings(window.location));
    setCredential('apiKey');
  };

  const field = (name: string) => `${id}-${name}`;
  const overridden = (key: keyof DemoSettings) =>
    fromQuery.includes(key) ? <span className="from-query">from URL</span> : null;
  const profile = PROVIDER_PROFILES[draft.provider];
  const described = useSessionDescription(draft);
  const labels = profile.fields;
  const chooseProvider = (next: DemoProvider) => {
    setSaved(false);
    // The server follows to the new provider's path (on the local agent, or a relay).
    setDraft((current) => ({
      ...current,
      provider: next,
      server: serverForProvider(current.server, current.provider, next),
      // A voice is named in each service's own terms: one of another service means nothing here.
      voice: '',
    }));
  };
  /** A text setting, shown only for the providers that use it, under their name for it. */
  const text = (key: 'agentId' | 'model' | 'voice' | 'language' | 'greeting', placeholder: string) => {
    const label = labels[key];
    if (label === undefined) return null;
    return (
      <label htmlFor={field(key)}>
        <span className="label-row">
          {label} {overridden(key)}
        </span>
        <input
          id={field(key)}
          name={key}
          spellCheck={false}
          autoComplete="off"
          placeholder={placeholder}
          value={draft[key]}
          onChange={(event) => update(key, event.target.value)}
          required={key === 'agentId' && draft.provider !== 'hume'}
        />
      </label>
    );
  };

  return (
    <form className="settings-form" onSubmit={submit} aria-label="Connection settings">
      <fieldset>
        <legend>Service</legend>
        <label htmlFor={field('provider')}>
          <span className="label-row">Service {overridden('provider')}</span>
          <select
            id={field('provider')}
            name="provider"
            value={draft.provider}
            onChange={(event) => chooseProvider(event.target.value as DemoProvider)}
          >
            {DEMO_PROVIDERS.map((provider) => (
              <option key={provider} value={provider}>
                {PROVIDER_PROFILES[provider].label}
              </option>
            ))}
          </select>
        </label>
        <label htmlFor={field('server')}>
          <span className="label-row">Server URL {overridden('server')}</span>
          <input
            id={field('server')}
            name="server"
            type="url"
            inputMode="url"
            spellCheck={false}
            autoComplete="off"
            value={draft.server}
            onChange={(event) => update('server', event.target.value)}
            required
          />
        </label>
        {text('agentId', '')}
        {text('model', profile.defaultModel ?? '')}
        <p className="field-hint mono">{described.endpoint}</p>
      </fieldset>

      <fieldset>
        <legend>Credentials</legend>
        <div className="segmented" role="radiogroup" aria-label="How the page authenticates">
          <label>
            <input
              type="radio"
              name="credential"
              value="apiKey"
              checked={credential === 'apiKey'}
              onChange={() => setCredential('apiKey')}
            />
            <span className="segment-text">API key · prototype</span>
          </label>
          <label>
            <input
              type="radio"
              name="credential"
              value="token"
              checked={credential === 'token'}
              onChange={() => setCredential('token')}
            />
            <span className="segment-text">Relay token · production</span>
          </label>
        </div>
        {credential === 'apiKey' ? (
          <>
            <label htmlFor={field('apiKey')}>
              <span className="label-row">API key {overridden('apiKey')}</span>
              <input
                id={field('apiKey')}
                name="apiKey"
                type="password"
                autoComplete="off"
                value={draft.apiKey}
                onChange={(event) => update('apiKey', event.target.value)}
              />
            </label>
            <p className="field-hint">
              {profile.keyHint} A key in the browser is for prototypes and the local agent only: anyone can
              read it. In production, run the relay and hand the page a short-lived token.
            </p>
          </>
        ) : (
          <>
            <label htmlFor={field('tokenEndpoint')}>
              <span className="label-row">Token endpoint {overridden('tokenEndpoint')}</span>
              <input
                id={field('tokenEndpoint')}
                name="tokenEndpoint"
                type="url"
                placeholder="http://127.0.0.1:8788/token"
                spellCheck={false}
                value={draft.tokenEndpoint}
                onChange={(event) => update('tokenEndpoint', event.target.value)}
              />
            </label>
            <p className="field-hint">
              Before each connection the page fetches a fresh token here (
              <code>GET ?{profile.tokenQuery(draft)[0]}=</code> answering <code>{'{ "token": … }'}</code>):
              your backend's job in production, after it knows who the visitor is.
            </p>
            <label htmlFor={field('token')}>
              <span className="label-row">Or a session token {overridden('token')}</span>
              <input
                id={field('token')}
                name="token"
                autoComplete="off"
                spellCheck={false}
                placeholder="Pasted from createSessionToken()"
                value={draft.token}
                onChange={(event) => update('token', event.target.value)}
              />
            </label>
            <p className="field-hint">
              Point the server URL at the relay (for example <code>ws://127.0.0.1:8788{profile.path}</code>).
              The relay checks the token, adds the real API key the service's way and forwards everything
              else. <code>npm run demo</code> starts one for PlayAI on port 8788 with a development token
              endpoint; <code>pnpm relay -- --provider {draft.provider} …</code> runs one for any service.
            </p>
          </>
        )}
      </fieldset>

      {labels.formats === undefined ? (
        <p className="field-hint">
          Audio:{' '}
          <span className="mono">
            {described.audio.input} in, {described.audio.output} out
          </span>
          , {profile.audioNote}
        </p>
      ) : (
        <fieldset className="two-col">
          <legend>Audio</legend>
          <label htmlFor={field('inputEncoding')}>
            <span className="label-row">Input encoding {overridden('inputEncoding')}</span>
            <select
              id={field('inputEncoding')}
              name="inputEncoding"
              value={draft.inputEncoding}
              onChange={(event) =>
                update('inputEncoding', event.target.value as DemoSettings['inputEncoding'])
              }
            >
              {INPUT_ENCODING_CHOICES.map((encoding) => (
                <option key={encoding} value={encoding}>
                  {encoding === 'linear16' ? 'linear16 (16-bit PCM)' : 'mulaw (8-bit G.711)'}
                </option>
              ))}
            </select>
          </label>
          <label htmlFor={field('inputSampleRate')}>
            <span className="label-row">Input rate {overridden('inputSampleRate')}</span>
            <select
              id={field('inputSampleRate')}
              name="inputSampleRate"
              value={draft.inputSampleRate}
              onChange={(event) => update('inputSampleRate', Number(event.target.value))}
            >
              {withCurrent(INPUT_RATE_CHOICES, draft.inputSampleRate).map((rate) => (
                <option key={rate} value={rate}>
                  {rateLabel(rate)}
                </option>
              ))}
            </select>
          </label>
          <label htmlFor={field('outputFormat')}>
            <span className="label-row">Output format {overridden('outputFormat')}</span>
            <select
              id={field('outputFormat')}
              name="outputFormat"
              value={draft.outputFormat}
              onChange={(event) => update('outputFormat', event.target.value as DemoSettings['outputFormat'])}
            >
              <option value="">Library default ({DEFAULT_OUTPUT_FORMAT})</option>
              {OUTPUT_FORMATS.map((format) => (
                <option key={format} value={format}>
                  {FORMAT_LABELS[format] ?? format}
                </option>
              ))}
            </select>
          </label>
          <label htmlFor={field('outputSampleRate')}>
            <span className="label-row">Output rate {overridden('outputSampleRate')}</span>
            <select
              id={field('outputSampleRate')}
              name="outputSampleRate"
              value={draft.outputSampleRate}
              onChange={(event) => update('outputSampleRate', Number(event.target.value))}
            >
              <option value={0}>Library default ({rateLabel(DEFAULT_OUTPUT_SAMPLE_RATE_HZ)})</option>
              {withCurrent(OUTPUT_RATE_CHOICES, draft.outputSampleRate).map((rate) => (
                <option key={rate} value={rate}>
                  {rateLabel(rate)}
                </option>
              ))}
            </select>
          </label>
        </fieldset>
      )}

      <fieldset>
        <legend>Conversation</legend>
        {text('greeting', "The agent's own")}
        {text(
          'voice',
          draft.provider === 'openai' ? 'The model’s (marin, cedar, alloy…)' : "The agent's own",
        )}
        {text('language', "The agent's own (en, fr…)")}
        <label htmlFor={field('prompt')}>
          <span className="label-row">
            {labels.prompt ?? 'Prompt'} {overridden('prompt')}
          </span>
          <textarea
            id={field('prompt')}
            name="prompt"
            rows={2}
            placeholder={
              draft.provider === 'openai' ? 'The system instructions' : "Added to the agent's instructions"
            }
            value={draft.prompt}
            onChange={(event) => update('prompt', event.target.value)}
          />
        </label>
      </fieldset>

      <div className="form-actions">
        <button type="submit" className="button primary">
          Save settings
        </button>
        <button type="button" className="button ghost" onClick={reset}>
          Defaults
        </button>
        <a className="share-link" href={settingsToQuery(draft, window.location) || '?'}>
          Link to these settings
        </a>
      </div>
      {saved ? (
        <p className="field-hint" role="status">
          Saved{live ? '; they apply when you start the next conversation.' : '.'}
        </p>
      ) : null}
    </form>
  );
}

/** The choices, plus the current value when it came from the URL and is not among them. */
function withCurrent(choices: readonly number[], current: number): number[] {
  return current > 0 && !choices.includes(current)
    ? [...choices, current].sort((a, b) => a - b)
    : [...choices];
}
