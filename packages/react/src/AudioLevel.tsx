'use client';
import { type CSSProperties, forwardRef, type HTMLAttributes } from 'react';
import { type ConversationBindingProps, useBoundConversation } from './AgentConversationProvider.tsx';
import { composeRefs } from './compose.ts';
import { useLiveAnimation } from './useLiveAnimation.ts';
import { prefersReducedMotion } from './visuallyHidden.ts';

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
   * Updates per second when the user prefers reduced motion; 0 holds the meter still at empty
   * (`data-state="static"`).
   * @defaultValue 4
   */
  reducedMotionFps?: number;
}

const LEVEL_PROPERTY = '--voicewire-level';
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
 * is live (`data-state`: `active`, `static`, `inactive`; see `useLiveAnimation`); honours
 * `prefers-reduced-motion` with a few updates a second (or none).
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
  // The level is polled and written straight onto the element: no React state, no render per frame.
  const element = useLiveAnimation<HTMLDivElement>(
    conversation,
    (node) => {
      const motion = prefersReducedMotion();
      let shown = 0;
      let written = -1;
      const write = (fraction: number) => {
        const percent = Math.round(fraction * 100);
        if (percent === written) return;
        written = percent;
        node.style.setProperty(LEVEL_PROPERTY, String(percent / 100));
        node.setAttribute('aria-valuenow', String(percent));
      };
      return {
        frame() {
          const rms = source === 'output' ? conversation.getOutputLevel() : conversation.getInputLevel();
          const target = levelToFraction(rms, minDb);
          // A few updates a second under reduced motion: show each as it is, without the fall.
          shown = motion?.matches ? target : Math.max(target, shown * RELEASE_PER_FRAME);
          write(shown);
        },
        rest() {
          shown = 0;
          write(0);
        },
      };
    },
    reducedMotionFps,
    [source, minDb],
  );

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
