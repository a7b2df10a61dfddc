'use client';
import type { Conversation } from '@voicewire/core';
import { type CanvasHTMLAttributes, forwardRef } from 'react';
import { type ConversationBindingProps, useBoundConversation } from './AgentConversationProvider.tsx';
import { composeRefs } from './compose.ts';
import { type LivePainter, useLiveAnimation } from './useLiveAnimation.ts';

export interface AudioVisualizerProps
  extends Omit<CanvasHTMLAttributes<HTMLCanvasElement>, 'children'>,
    ConversationBindingProps {
  /**
   * Whose voice: the microphone (`input`) or the agent (`output`).
   * @defaultValue 'output'
   */
  source?: 'input' | 'output';
  /**
   * Number of bars, spread over the voice band (about 190 Hz to 8 kHz).
   * @defaultValue 24
   */
  bars?: number;
}

/** The voice band: bins of the 128-bin spectrum (187.5 Hz each at 48 kHz) drawn as bars. */
const FIRST_BIN = 1;
const LAST_BIN = 44;
/** Height of a bar at rest, as a fraction of the canvas (a flat line reads as "nothing playing"). */
const REST = 0.06;

interface Theme {
  color: string;
  gap: number;
  radius: number;
}

/** The theme's CSS variables, read when drawing starts (never per frame). */
function readTheme(canvas: HTMLCanvasElement, source: 'input' | 'output'): Theme {
  const style = getComputedStyle(canvas);
  const variable = (name: string) => style.getPropertyValue(name).trim();
  const color =
    variable(
      source === 'input' ? '--voicewire-visualizer-input-color' : '--voicewire-visualizer-output-color',
    ) ||
    variable('--voicewire-visualizer-color') ||
    style.color ||
    'currentColor';
  const gap = Number.parseFloat(variable('--voicewire-visualizer-gap'));
  const radius = Number.parseFloat(variable('--voicewire-visualizer-radius'));
  return { color, gap: Number.isFinite(gap) ? gap : 0.3, radius: Number.isFinite(radius) ? radius : 0.5 };
}

/** Bar heights (0..1) from the spectrum: the loudest bin of each bar's slice of the voice band. */
export function spectrumToBars(spectrum: Uint8Array, bars: number, out: Float32Array): Float32Array {
  const span = LAST_BIN - FIRST_BIN;
  for (let bar = 0; bar < bars; bar++) {
    const from = FIRST_BIN + Math.floor((bar * span) / bars);
    const to = Math.max(from + 1, FIRST_BIN + Math.floor(((bar + 1) * span) / bars));
    let peak = 0;
    for (let bin = from; bin < to && bin < spectrum.length; bin++) peak = Math.max(peak, spectrum[bin]!);
    out[bar] = Math.max(REST, peak / 255);
  }
  return out;
}

function draw(canvas: HTMLCanvasElement, heights: Float32Array, theme: Theme): void {
  const context = canvas.getContext('2d');
  if (!context) return;
  const { width, height } = canvas;
  context.clearRect(0, 0, width, height);
  context.fillStyle = theme.color;
  const count = heights.length;
  // `gap` is a fraction of each bar's slot.
  const slot = width / count;
  const barWidth = Math.max(1, slot * (1 - theme.gap));
  for (let bar = 0; bar < count; bar++) {
    const barHeight = Math.max(2, heights[bar]! * height);
    const x = bar * slot + (slot - barWidth) / 2;
    const y = (height - barHeight) / 2;
    const radius = Math.min(barWidth / 2, barHeight / 2) * theme.radius * 2;
    context.beginPath();
    if (typeof context.roundRect === 'function') context.roundRect(x, y, barWidth, barHeight, radius);
    else context.rect(x, y, barWidth, barHeight);
    context.fill();
  }
}

/**
 * Bars that move with the microphone or the agent's voice, drawn on a canvas in
 * `requestAnimationFrame` from `conversation.getFrequencyData()`: no React state, so no render per
 * frame. Animates only while the conversation is live; under `prefers-reduced-motion` it stays
 * still. Themed with CSS variables: `--voicewire-visualizer-color` (or the `-input-color` /
 * `-output-color` variants), `--voicewire-visualizer-gap` (fraction of a bar's slot) and
 * `--voicewire-visualizer-radius` (0 square … 0.5 round); its size is the element's CSS size.
 */
export const AudioVisualizer = forwardRef<HTMLCanvasElement, AudioVisualizerProps>(
  function AudioVisualizer(props, ref) {
    const { conversation: conversationProp, source = 'output', bars = 24, ...canvasProps } = props;
    const conversation = useBoundConversation(conversationProp, 'AudioVisualizer');
    const count = Math.max(1, Math.floor(bars));
    // Still under reduced motion: bars that jump a few times a second read as flicker.
    const element = useLiveAnimation<HTMLCanvasElement>(
      conversation,
      (canvas, resync) => createBarsPainter(canvas, conversation, source, count, resync),
      0,
      [source, count],
    );

    const label = source === 'input' ? 'Microphone visualizer' : 'Agent voice visualizer';
    return (
      <canvas
        role="img"
        aria-label={label}
        data-source={source}
        data-state="inactive"
        data-voicewire="audio-visualizer"
        {...canvasProps}
        ref={composeRefs(ref, element)}
      />
    );
  },
);

/** The bars on the canvas: drawn from the spectrum while live, at rest otherwise. */
function createBarsPainter(
  canvas: HTMLCanvasElement,
  conversation: Conversation,
  source: 'input' | 'output',
  bars: number,
  resync: () => void,
): LivePainter {
  const spectrum = new Uint8Array(128);
  const heights = new Float32Array(bars);
  const rest = new Float32Array(bars).fill(REST);
  let theme = readTheme(canvas, source);
  // Resized: redrawn on the next frame (sizing the canvas inside the observer's callback would
  // make it observe its own change).
  const resize = typeof ResizeObserver === 'function' ? new ResizeObserver(resync) : null;
  resize?.observe(canvas);
  return {
    frame() {
      conversation.getFrequencyData(source, spectrum);
      draw(canvas, spectrumToBars(spectrum, bars, heights), theme);
    },
    rest() {
      draw(canvas, rest, theme);
    },
    refresh() {
      theme = readTheme(canvas, source);
      const scale = typeof devicePixelRatio === 'number' && devicePixelRatio > 0 ? devicePixelRatio : 1;
      const width = Math.max(1, Math.round(canvas.clientWidth * scale));
      const height = Math.max(1, Math.round(canvas.clientHeight * scale));
      if (canvas.width !== width || canvas.height !== height) {
        canvas.width = width;
        canvas.height = height;
      }
    },
    dispose() {
      resize?.disconnect();
    },
  };
}
