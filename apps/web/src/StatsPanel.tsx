import type { Conversation, ConversationStats, ConversationStatus } from '@voicewire/react';
import { type ReactNode, useEffect, useRef } from 'react';

const SAMPLE_MS = 250;
const HISTORY = 120; // 30 s at 4 samples a second

type Counter =
  | 'framesSent'
  | 'framesDropped'
  | 'bytesSent'
  | 'messagesReceived'
  | 'bytesReceived'
  | 'reconnects';

function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KB`;
  return `${(bytes / 1024 / 1024).toFixed(2)} MB`;
}

function formatMs(ms: number | undefined): string {
  if (ms === undefined || !Number.isFinite(ms)) return '–';
  return ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${Math.round(ms)} ms`;
}

interface Props {
  conversation: Conversation;
  /** What the session asks for, e.g. `{ input: 'linear16 · 16 kHz', output: 'wav · 24 kHz' }`. */
  audio: { input: string; output: string };
  status: ConversationStatus;
  conversationId: string | null;
}

/**
 * Live figures for a developer evaluating the library. The counters are polled a few times a
 * second and written straight into the DOM and a canvas: putting them in React state would
 * re-render on every poll, which is exactly what the library promises not to do.
 */
export function StatsPanel({ conversation, audio, status, conversationId }: Props) {
  const rootRef = useRef<HTMLElement>(null);
  const canvasRef = useRef<HTMLCanvasElement>(null);
  const turnsRef = useRef<HTMLOListElement>(null);

  useEffect(() => {
    const root = rootRef.current;
    const canvas = canvasRef.current;
    const turnsList = turnsRef.current;
    if (!root || !canvas || !turnsList) return;
    const fields = new Map<string, HTMLElement>();
    for (const element of root.querySelectorAll<HTMLElement>('[data-stat]')) {
      fields.set(element.dataset.stat ?? '', element);
    }
    const set = (name: string, text: string) => {
      const element = fields.get(name);
      if (element && element.textContent !== text) element.textContent = text;
    };

    const sent: number[] = [];
    const received: number[] = [];
    const buffered: number[] = [];
    let previous: ConversationStats | null = null;
    let renderedTurns = '';

    const sample = () => {
      const stats = conversation.getStats();
      const player = stats.player;
      const counters: Counter[] = ['framesSent', 'framesDropped', 'messagesReceived', 'reconnects'];
      for (const name of counters) set(name, stats[name].toLocaleString('en'));
      set('bytesSent', formatBytes(stats.bytesSent));
      set('bytesReceived', formatBytes(stats.bytesReceived));
      set(
        'jitterBuffer',
        player ? `${Math.round(player.bufferedMs)} / ${Math.round(player.jitterTargetMs)} ms` : '–',
      );
      set('underruns', player ? player.underruns.toLocaleString('en') : '–');
      const ttfa = stats.timeToFirstAudioMs;
      const interruptions = stats.interruptionMs;
      set('lastTimeToFirstAudio', formatMs(ttfa[ttfa.length - 1]));
      set('lastInterruption', formatMs(interruptions[interruptions.length - 1]));

      // A stats object that went backwards belongs to a new conversation: restart the rates.
      const restarted = previous !== null && stats.bytesSent < previous.bytesSent;
      const perSecond = 1000 / SAMPLE_MS;
      sent.push(previous && !restarted ? ((stats.bytesSent - previous.bytesSent) * perSecond) / 1024 : 0);
      received.push(
        previous && !restarted ? ((stats.bytesReceived - previous.bytesReceived) * perSecond) / 1024 : 0,
      );
      buffered.push(player?.bufferedMs ?? 0);
      for (const series of [sent, received, buffered]) if (series.length > HISTORY) series.shift();
      previous = stats;

      const turnsKey = `${ttfa.join(',')}|${interruptions.join(',')}`;
      if (turnsKey !== renderedTurns) {
        renderedTurns = turnsKey;
        renderTurns(turnsList, ttfa, interruptions);
      }
      drawChart(canvas, sent, received, buffered);
    };

    sample();
    const timer = window.setInterval(sample, SAMPLE_MS);
    const onResize = () => drawChart(canvas, sent, received, buffered);
    window.addEventListener('resize', onResize);
    return () => {
      window.clearInterval(timer);
      window.removeEventListener('resize', onResize);
    };
  }, [conversation]);

  return (
    <section className="panel stats" aria-labelledby="stats-title" ref={rootRef}>
      <header className="panel-header">
        <h2 id="stats-title">Live stats</h2>
        <span className="status-pill" data-status={status}>
          {status}
        </span>
      </header>
      <p className="conversation-line">
        Conversation{' '}
        <span className="mono" data-testid="conversation-id">
          {conversationId ?? '–'}
        </span>
      </p>
      <dl className="stat-grid">
        <Stat label="Audio in">{audio.input}</Stat>
        <Stat label="Audio out">{audio.output}</Stat>
        <Stat label="Reconnects" name="reconnects" />
        <Stat label="Frames sent" name="framesSent" />
        <Stat label="Sent" name="bytesSent" />
        <Stat label="Frames dropped" name="framesDropped" />
        <Stat label="Messages received" name="messagesReceived" />
        <Stat label="Received" name="bytesReceived" />
        <Stat label="Underruns" name="underruns" />
        <Stat label="Jitter buffer / target" name="jitterBuffer" />
        <Stat label="First audio, last turn" name="lastTimeToFirstAudio" />
        <Stat label="Interruption, last" name="lastInterruption" />
      </dl>
      <figure className="chart">
        <canvas ref={canvasRef} aria-label="Traffic and jitter buffer over the last 30 seconds" role="img" />
        <figcaption>
          <span className="legend legend-sent">sent KB/s</span>
          <span className="legend legend-received">received KB/s</span>
          <span className="legend legend-buffer">buffer ms</span>
          <span className="legend-span">last 30 s</span>
        </figcaption>
      </figure>
      <h3 className="turns-title">Per turn</h3>
      <ol className="turns" ref={turnsRef} aria-label="Time to first audio and interruption time per turn" />
    </section>
  );
}

function Stat({
  label,
  name,
  wide,
  children,
}: {
  label: string;
  name?: string;
  wide?: boolean;
  children?: ReactNode;
}) {
  return (
    <div className={wide ? 'stat stat-wide' : 'stat'}>
      <dt>{label}</dt>
      <dd data-stat={name}>{children ?? '–'}</dd>
    </div>
  );
}

function renderTurns(list: HTMLOListElement, ttfa: number[], interruptions: number[]) {
  const max = Math.max(100, ...ttfa, ...interruptions);
  const rows: HTMLLIElement[] = [];
  const row = (label: string, ms: number, kind: 'ttfa' | 'interrupt') => {
    const item = document.createElement('li');
    item.className = `turn-row turn-${kind}`;
    const name = document.createElement('span');
    name.className = 'turn-label';
    name.textContent = label;
    const bar = document.createElement('span');
    bar.className = 'turn-bar';
    const fill = document.createElement('span');
    fill.style.width = `${Math.max(2, (ms / max) * 100)}%`;
    bar.append(fill);
    const value = document.createElement('span');
    value.className = 'turn-value';
    value.textContent = formatMs(ms);
    item.append(name, bar, value);
    rows.push(item);
  };
  for (const [index, ms] of ttfa.entries()) row(`Turn ${index + 1} · first audio`, ms, 'ttfa');
  for (const [index, ms] of interruptions.entries())
    row(`Barge-in ${index + 1} · silent after`, ms, 'interrupt');
  if (rows.length === 0) {
    const empty = document.createElement('li');
    empty.className = 'turns-empty';
    empty.textContent = 'Start a conversation to see latencies per turn.';
    rows.push(empty);
  }
  list.replaceChildren(...rows);
}

function drawChart(canvas: HTMLCanvasElement, sent: number[], received: number[], buffered: number[]) {
  const ratio = window.devicePixelRatio || 1;
  const width = canvas.clientWidth;
  const height = canvas.clientHeight;
  if (width === 0 || height === 0) return;
  if (canvas.width !== Math.round(width * ratio) || canvas.height !== Math.round(height * ratio)) {
    canvas.width = Math.round(width * ratio);
    canvas.height = Math.round(height * ratio);
  }
  const context = canvas.getContext('2d');
  if (!context) return;
  context.setTransform(ratio, 0, 0, ratio, 0, 0);
  context.clearRect(0, 0, width, height);
  const style = getComputedStyle(canvas);
  const color = (name: string, fallback: string) => style.getPropertyValue(name).trim() || fallback;

  context.strokeStyle = color('--chart-grid', 'rgba(127,127,127,0.2)');
  context.lineWidth = 1;
  for (let i = 1; i < 4; i++) {
    const y = Math.round((height * i) / 4) + 0.5;
    context.beginPath();
    context.moveTo(0, y);
    context.lineTo(width, y);
    context.stroke();
  }

  const quiet = [...sent, ...received, ...buffered].every((value) => value === 0);
  if (quiet) {
    context.fillStyle = color('--chart-text', 'rgba(93,100,117,0.8)');
    context.font = '12px system-ui, sans-serif';
    context.textAlign = 'center';
    context.textBaseline = 'middle';
    context.fillText('No traffic yet', width / 2, height / 2);
    return;
  }
  const step = width / (HISTORY - 1);
  const offset = HISTORY - sent.length;
  const plot = (series: number[], scale: number, stroke: string, fill?: string) => {
    if (series.length < 2) return;
    context.beginPath();
    series.forEach((value, index) => {
      const x = (offset + index) * step;
      const y = height - 2 - Math.min(1, value / scale) * (height - 6);
      if (index === 0) context.moveTo(x, y);
      else context.lineTo(x, y);
    });
    if (fill) {
      context.lineTo((offset + series.length - 1) * step, height);
      context.lineTo(offset * step, height);
      context.closePath();
      context.fillStyle = fill;
      context.fill();
    } else {
      context.strokeStyle = stroke;
      context.lineWidth = 1.75;
      context.lineJoin = 'round';
      context.stroke();
    }
  };
  const trafficScale = Math.max(8, ...sent, ...received) * 1.15;
  const bufferScale = Math.max(200, ...buffered) * 1.15;
  plot(buffered, bufferScale, '', color('--chart-buffer', 'rgba(245,158,11,0.25)'));
  plot(received, trafficScale, color('--chart-received', '#14b8a6'));
  plot(sent, trafficScale, color('--chart-sent', '#6366f1'));
}
