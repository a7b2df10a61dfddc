/**
 * The relay's counters, exposed in the Prometheus text format (version 0.0.4) at `GET /metrics`.
 * Plain numbers on the hot path; the text is only built when scraped.
 */

/** Why a session was refused, as the `reason` label of `voicewire_relay_sessions_refused_total`. */
export type RefusalReason =
  | 'origin'
  | 'token-missing'
  | 'token-malformed'
  | 'token-bad-signature'
  | 'token-expired'
  | 'token-wrong-agent'
  | 'token-wrong-origin'
  | 'token-revoked'
  | 'token-used'
  | 'token-limit'
  | 'agent-limit'
  | 'store-unavailable'
  | 'draining'
  /** Every subprotocol the browser offered carries a credential (HTTP 400). */
  | 'subprotocol'
  /** A request the relay cannot make upstream (ElevenLabs' signed URL without `agent_id`). */
  | 'bad-request';

/** Upper bounds (seconds) of the upstream connect-time histogram. */
const CONNECT_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export class RelayMetrics {
  sessionsOpened = 0;
  sessionsClosed = 0;
  readonly refused = new Map<RefusalReason, number>();
  bytesFromClient = 0;
  framesFromClient = 0;
  bytesToClient = 0;
  framesToClient = 0;
  audioFramesDropped = 0;
  storeErrors = 0;
  upstreamFailures = 0;
  readonly #connectBuckets = new Array<number>(CONNECT_BUCKETS.length).fill(0);
  #connectCount = 0;
  #connectSum = 0;

  refuse(reason: RefusalReason): void {
    this.refused.set(reason, (this.refused.get(reason) ?? 0) + 1);
  }

  observeUpstreamConnect(seconds: number): void {
    this.#connectCount++;
    this.#connectSum += seconds;
    for (let i = 0; i < CONNECT_BUCKETS.length; i++)
      if (seconds <= (CONNECT_BUCKETS[i] as number)) (this.#connectBuckets[i] as number)++;
  }

  /** The exposition text; `state` carries the gauges only the relay knows. */
  render(state: {
    provider: string;
    sessionsOpen: number;
    draining: boolean;
    storeAvailable: boolean;
    store: string;
  }): string {
    const lines: string[] = [];
    const metric = (name: string, type: string, help: string, samples: [string, number][]) => {
      lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
      for (const [labels, value] of samples) lines.push(`${name}${labels} ${value}`);
    };
    metric('voicewire_relay_info', 'gauge', 'The vendor this relay connects to (always 1).', [
      [`{provider="${state.provider}"}`, 1],
    ]);
    metric('voicewire_relay_sessions_open', 'gauge', 'Sessions open on this instance.', [
      ['', state.sessionsOpen],
    ]);
    metric('voicewire_relay_sessions_opened_total', 'counter', 'Sessions accepted.', [
      ['', this.sessionsOpened],
    ]);
    metric('voicewire_relay_sessions_closed_total', 'counter', 'Sessions ended, for any reason.', [
      ['', this.sessionsClosed],
    ]);
    metric(
      'voicewire_relay_sessions_refused_total',
      'counter',
      'Connections refused before a session opened, by reason.',
      [...this.refused]
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([reason, n]) => [`{reason="${reason}"}`, n]),
    );
    metric('voicewire_relay_bytes_total', 'counter', 'Message payload bytes relayed, by direction.', [
      ['{direction="client_to_agent"}', this.bytesFromClient],
      ['{direction="agent_to_client"}', this.bytesToClient],
    ]);
    metric('voicewire_relay_frames_total', 'counter', 'WebSocket messages relayed, by direction.', [
      ['{direction="client_to_agent"}', this.framesFromClient],
      ['{direction="agent_to_client"}', this.framesToClient],
    ]);
    metric(
      'voicewire_relay_audio_frames_dropped_total',
      'counter',
      'Client audio messages dropped by the audio rate cap (more than twice real time).',
      [['', this.audioFramesDropped]],
    );
    const buckets: [string, number][] = CONNECT_BUCKETS.map((le, i) => [
      `_bucket{le="${le}"}`,
      this.#connectBuckets[i] as number,
    ]);
    buckets.push(['_bucket{le="+Inf"}', this.#connectCount]);
    buckets.push(['_sum', this.#connectSum], ['_count', this.#connectCount]);
    lines.push(
      '# HELP voicewire_relay_upstream_connect_seconds Time to open the agent service socket.',
      '# TYPE voicewire_relay_upstream_connect_seconds histogram',
      ...buckets.map(([suffix, value]) => `voicewire_relay_upstream_connect_seconds${suffix} ${value}`),
    );
    metric(
      'voicewire_relay_upstream_failures_total',
      'counter',
      'Agent service sockets that failed to open.',
      [['', this.upstreamFailures]],
    );
    metric('voicewire_relay_store_errors_total', 'counter', 'Session store operations that failed.', [
      ['', this.storeErrors],
    ]);
    metric('voicewire_relay_store_up', 'gauge', '1 while the session store is reachable.', [
      [`{store="${state.store}"}`, state.storeAvailable ? 1 : 0],
    ]);
    metric('voicewire_relay_draining', 'gauge', '1 while the instance drains (not accepting sessions).', [
      ['', state.draining ? 1 : 0],
    ]);
    return `${lines.join('\n')}\n`;
  }
}
