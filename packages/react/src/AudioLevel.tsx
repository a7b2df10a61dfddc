'use client';
import type { ConversationStatus } from '@voicewire/core';
import { type CSSProperties, forwardRef, type HTMLAttributes, useEffect, useRef } from 'react';
import { type ConversationBindingProps, useBoundConversation } from './AgentConversationProvider.tsx';
import { composeRefs } from './compose.ts';

export interface AudioLevelProps extends HTMLAttributes<HTMLDivElement>, ConversationBindingProps {
  /**
   * Whose voice: the microphone (`input`) or the agent (`output`).
   * @defaultValue 'input'
   */
  source?: 'input' | 'output';
  /**
   * The level shown as empty, in dBFS; the meter spans this to 0 dBFS, like a mixing desk.
   * @defaultValue -60
   */
  minDb?: number;
  /**
   * Updates per second when the user prefers reduced motion (0: do not animate at all).
   * @defaultValue 4
   */
  reducedMotionFps?: number;
}

const LEVEL_PROPERTY = '--voicewire-level';
/** A socket is open or being opened: there may be audio to show. */
const LIVE_STATUSES: readonly ConversationStatus[] = ['connecting', 'connected', 'reconnecting'];
/** Per-frame fall of the shown level (fast attack, slower release), so the meter does not flicker. */
const RELEASE_PER_FRAME = 0.85;

/** RMS (0..1) to the meter's 0..1 position on a decibel scale. */
export function levelToFraction(rms: number, minDb = -60): number {
  if (!(rms > 0)) return 0;
  const db = 20 * Math.log10(rms);
  return Math.min(1, Math.max(0, (db - minDb) / -minDb));
}

/**
 * A live level meter (`role="meter"`) of the microphone or of the agent's voice. It polls the
 * level on each animation frame and writes `--voicewire-level` (0..1) and `aria-valuenow` straight
 * onto its element: no React state, so no render per frame. Animates only while the conversation
 * is live; honours `prefers-reduced-motion` with a few updates a second (or none).
 */
export const AudioLevel = forwardRef<HTMLDivElement, AudioLevelProps>(function AudioLevel(props, ref) {
  const {
    conversation: conversationProp,
    source = 'input',
    minDb = -60,
    reducedMotionFps = 4,
    style,
    ...divProps
  } = props;
  const conversation = useBoundConversation(conversationProp, 'AudioLevel');
  const element = useRef<HTMLDivElement | null>(null);

  useEffect(() => {
    const node = element.current;
    if (!node) return;
    const motion =
      typeof window.matchMedia === 'function' ? window.matchMedia('(prefers-reduced-motion: reduce)') : null;
    let frame = 0;
    let shown = 0;
    let written = -1;
    let lastTick = Number.NEGATIVE_INFINITY;

    const write = (fraction: number) => {
      const percent = Math.round(fraction * 100);
      if (percent === written) return;
      written = percent;
      node.style.setProperty(LEVEL_PROPERTY, String(percent / 100));
      node.setAttribute('aria-valuenow', String(percent));
    };
    const tick = (now: number) => {
      frame = requestAnimationFrame(tick);
      const reduced = motion?.matches ?? false;
      if (reduced) {
        if (reducedMotionFps <= 0 || now - lastTick < 1000 / reducedMotionFps) return;
        lastTick = now;
      }
      const rms = source === 'output' ? conversation.getOutputLevel() : conversation.getInputLevel();
      const target = levelToFraction(rms, minDb);
      shown = reduced ? target : Math.max(target, shown * RELEASE_PER_FRAME);
      write(shown);
    };
    const sync = () => {
      const live = LIVE_STATUSES.includes(conversation.store.getState().status);
      node.dataset.state = live ? 'active' : 'inactive';
      if (live && frame === 0) {
        frame = requestAnimationFrame(tick);
      } else if (!live && frame !== 0) {
        cancelAnimationFrame(frame);
        frame = 0;
        shown = 0;
        write(0);
      }
    };
    // Status changes come from the store directly: this component never re-renders for them.
    const unsubscribe = conversation.store.subscribe(sync);
    sync();
    return () => {
      unsubscribe();
      if (frame !== 0) cancelAnimationFrame(frame);
      frame = 0;
    };
  }, [conversation, source, minDb, reducedMotionFps]);

  const label = source === 'output' ? 'Agent voice level' : 'Microphone level';
  return (
    // biome-ignore lint/a11y/useSemanticElements: <meter> cannot hold the children a custom visual needs, and its look cannot be themed across browsers.
    <div
      role="meter"
      aria-label={label}
      aria-valuemin={0}
      aria-valuemax={100}
      aria-valuenow={0}
      data-source={source}
      data-state="inactive"
      data-voicewire="audio-level"
      {...divProps}
      style={{ [LEVEL_PROPERTY]: 0, ...style } as CSSProperties}
      ref={composeRefs(ref, element)}
    />
  );
});
