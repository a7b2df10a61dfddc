'use client';
import type { AudioDeviceKind, MediaDevicesLike } from '@voicewire/core';
import { resolveAudioDevice } from '@voicewire/core';
import { isLiveStatus } from '@voicewire/core/conversation';
import {
  type ChangeEvent,
  forwardRef,
  type ReactNode,
  type SelectHTMLAttributes,
  useEffect,
  useId,
  useRef,
  useState,
} from 'react';
import { type ConversationBindingProps, useBoundConversation } from './AgentConversationProvider.tsx';
import { composeEventHandlers } from './compose.ts';
import { useAudioDevices } from './useAudioDevices.ts';
import { useConversationState } from './useConversationState.ts';

export interface DeviceSelectLabels {
  /** The visible label. @defaultValue 'Microphone' / 'Speaker' */
  label: string;
  /** The entry while no device is listed yet. @defaultValue 'System default' */
  systemDefault: string;
  /** Shown under the select while the browser hides device names. */
  labelsHidden: string;
  /** The button that asks for the microphone so the names appear. @defaultValue 'Show device names' */
  showNames: string;
  /** Shown (and the select disabled) where output cannot be chosen. */
  outputUnsupported: string;
  /** Shown when the chosen device disappeared; `{device}` is its name. */
  fellBack: string;
}

const DEFAULT_LABELS: Record<AudioDeviceKind, DeviceSelectLabels> = {
  audioinput: {
    label: 'Microphone',
    systemDefault: 'System default',
    labelsHidden: 'Device names appear once the microphone is allowed.',
    showNames: 'Show device names',
    outputUnsupported: '',
    fellBack: '{device} was disconnected; using the default microphone.',
  },
  audiooutput: {
    label: 'Speaker',
    systemDefault: 'System default',
    labelsHidden: 'Device names appear once the microphone is allowed.',
    showNames: 'Show device names',
    outputUnsupported:
      'This browser always plays through the system output; choose the speaker in your system settings.',
    fellBack: '{device} was disconnected; using the default speaker.',
  },
};

export interface DeviceSelectProps
  extends Omit<SelectHTMLAttributes<HTMLSelectElement>, 'value' | 'defaultValue' | 'onChange' | 'children'>,
    ConversationBindingProps {
  /** Microphones or speakers. */
  kind: AudioDeviceKind;
  /** The chosen device id (controlled). While it is not plugged in, the default is shown and used. */
  value?: string;
  /** The device chosen at first (uncontrolled). @defaultValue the stored choice, else the system default */
  defaultValue?: string;
  /** Called with the device id the user picked. Call `preventDefault()` on the event to veto the switch. */
  onChange?: (event: ChangeEvent<HTMLSelectElement>) => void;
  /** Remember the choice in `localStorage` under this key, and start from it next time. */
  storageKey?: string;
  /** Texts, for another language. */
  labels?: Partial<DeviceSelectLabels>;
  /** Injectable for tests and stories. @defaultValue navigator.mediaDevices */
  mediaDevices?: MediaDevicesLike;
  /** Whether output can be routed; injectable for stories. @defaultValue supportsOutputDeviceSelection() */
  outputSelectable?: boolean;
  /** Content after the select (a hint of your own). */
  children?: ReactNode;
}

/**
 * A labelled `<select>` of microphones or speakers that switches the conversation's device
 * mid-call, without reconnecting (`conversation.setInputDevice` / `setOutputDevice`). It follows
 * devices being plugged in and out, falls back to the default when the chosen one disappears (and
 * goes back to it when it returns), shows real names once the microphone is allowed, and for
 * output shows itself disabled, with the reason, where the browser cannot route audio.
 */
export const DeviceSelect = forwardRef<HTMLSelectElement, DeviceSelectProps>(
  function DeviceSelect(props, ref) {
    const {
      conversation: conversationProp,
      kind,
      value,
      defaultValue,
      onChange,
      storageKey,
      labels: labelOverrides,
      mediaDevices,
      outputSelectable,
      children,
      id: idProp,
      disabled,
      ...selectProps
    } = props;
    const conversation = useBoundConversation(conversationProp, 'DeviceSelect');
    const labels = { ...DEFAULT_LABELS[kind], ...labelOverrides };
    const { devices, status, labelsHidden, refresh, requestPermission } = useAudioDevices(kind, {
      ...(mediaDevices ? { mediaDevices } : {}),
      ...(outputSelectable !== undefined ? { outputSelectable } : {}),
    });
    const generatedId = useId();
    const id = idProp ?? `${generatedId}-select`;
    const noteId = `${generatedId}-note`;

    const [chosen, setChosen] = useState<string | undefined>(() => defaultValue);
    // The stored choice is read after hydration: the server has no localStorage.
    useEffect(() => {
      if (storageKey === undefined || value !== undefined || defaultValue !== undefined) return;
      const stored = readStorage(storageKey);
      if (stored !== null) setChosen(stored);
    }, [storageKey, value, defaultValue]);
    const preferred = value ?? chosen;
    // Names of devices seen, so a fallback can say which one went away.
    const seenNames = useRef(new Map<string, string>());
    for (const device of devices)
      if (!device.labelHidden) seenNames.current.set(device.deviceId, device.label);
    const resolved = resolveAudioDevice(devices, preferred);
    const missing =
      preferred !== undefined &&
      preferred !== '' &&
      status === 'ready' &&
      !labelsHidden &&
      resolved !== preferred;

    // The microphone's permission, granted while a call starts, reveals the names: list again at
    // each step of a live call (connecting, connected…), since the grant may come at any of them.
    const liveStatus = useConversationState(conversation, (s) => (isLiveStatus(s.status) ? s.status : null));
    useEffect(() => {
      if (liveStatus !== null) void refresh();
    }, [liveStatus, refresh]);

    // Apply the resolved device: the user's pick, a fallback, or the device coming back.
    const applied = useRef<string | undefined>(undefined);
    const [failure, setFailure] = useState<string | null>(null);
    useEffect(() => {
      if (status !== 'ready' || labelsHidden) return;
      if (applied.current === resolved || (applied.current === undefined && (preferred ?? '') === '')) return;
      applied.current = resolved;
      const apply =
        kind === 'audioinput'
          ? conversation.setInputDevice(resolved === '' ? undefined : resolved)
          : conversation.setOutputDevice(resolved);
      apply.then(
        () => setFailure(null),
        (error: unknown) => setFailure(error instanceof Error ? error.message : String(error)),
      );
    }, [conversation, kind, preferred, resolved, status, labelsHidden]);

    const handleChange = (event: ChangeEvent<HTMLSelectElement>) => {
      const next = event.target.value;
      setChosen(next);
      if (storageKey !== undefined) writeStorage(storageKey, next);
    };

    const unsupported = status === 'unsupported';
    const note = unsupported
      ? labels.outputUnsupported || null
      : (failure ??
        (missing
          ? labels.fellBack.replace('{device}', seenNames.current.get(preferred ?? '') ?? 'The chosen device')
          : labelsHidden
            ? labels.labelsHidden
            : null));

    return (
      <div data-voicewire="device-select" data-kind={kind} data-state={unsupported ? 'unsupported' : status}>
        <label htmlFor={id} data-voicewire="device-select-label">
          {labels.label}
        </label>
        <select
          {...selectProps}
          id={id}
          ref={ref}
          value={unsupported ? '' : resolved}
          disabled={disabled || unsupported || status === 'loading'}
          aria-describedby={note ? noteId : selectProps['aria-describedby']}
          onChange={composeEventHandlers(onChange, handleChange)}
        >
          {devices.length === 0 || unsupported || !devices.some((d) => d.deviceId === resolved) ? (
            <option value={resolved}>{labels.systemDefault}</option>
          ) : null}
          {unsupported
            ? null
            : devices.map((device) => (
                <option key={device.deviceId || device.label} value={device.deviceId}>
                  {device.label}
                </option>
              ))}
        </select>
        {note ? (
          <p id={noteId} data-voicewire="device-select-note" role={failure ? 'alert' : undefined}>
            {note}
          </p>
        ) : null}
        {labelsHidden && kind === 'audioinput' ? (
          <button
            type="button"
            data-voicewire="device-select-permission"
            onClick={() => void requestPermission()}
          >
            {labels.showNames}
          </button>
        ) : null}
        {children}
      </div>
    );
  },
);

function readStorage(key: string): string | null {
  try {
    return window.localStorage.getItem(key);
  } catch {
    return null;
  }
}

function writeStorage(key: string, value: string): void {
  try {
    window.localStorage.setItem(key, value);
  } catch {
    // Private mode or storage full: the choice holds for this page only.
  }
}
