import { useEffect, useState } from 'react';
import { type DemoSettings, describeSession, type SessionDescription } from './settings.ts';

/**
 * What the library will open for these settings (`describeSession`), kept current as they change.
 * Until the provider has answered (its protocol loads on the first call), the server as written.
 */
export function useSessionDescription(settings: DemoSettings): SessionDescription {
  const [described, setDescribed] = useState<{ for: DemoSettings; value: SessionDescription } | null>(null);
  useEffect(() => {
    let current = true;
    void describeSession(settings).then((value) => {
      if (current) setDescribed({ for: settings, value });
    });
    return () => {
      current = false;
    };
  }, [settings]);
  if (described?.for === settings) return described.value;
  return described?.value ?? { endpoint: settings.server, audio: { input: '…', output: '…' } };
}
