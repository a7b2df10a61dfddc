/** The socket URL a vendor provider builds from `url`: its query added to the one given. */
import { describe, expect, it } from 'vitest';
import { withQuery } from '../../src/providers/url.ts';

describe('withQuery', () => {
  it("adds the provider's query, keeping one given and dropping trailing slashes and a hash", () => {
    expect(withQuery('wss://a.example/v1/x/', 'model=m')).toBe('wss://a.example/v1/x?model=m');
    expect(withQuery('wss://a.example/v1/x?fault=drop:5000#h', 'model=m')).toBe(
      'wss://a.example/v1/x?fault=drop:5000&model=m',
    );
  });

  it('adds no "?" when there is no query at all (Deepgram with a key in its subprotocols)', () => {
    expect(withQuery('wss://agent.example/v1/agent/converse/', '')).toBe(
      'wss://agent.example/v1/agent/converse',
    );
    expect(withQuery('wss://agent.example/v1/agent/converse?region=eu', '')).toBe(
      'wss://agent.example/v1/agent/converse?region=eu',
    );
  });
});
