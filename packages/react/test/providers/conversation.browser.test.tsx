import { TalkButton, Transcript } from '@voicewire/react';
import { createRoot, type Root } from 'react-dom/client';
import { afterEach, describe, expect, it } from 'vitest';
import { PROVIDER_CASES, type ProviderCase } from '../../../../testing/providerCases.ts';
import {
  audibleMs,
  audibleSpans,
  bargeIns,
  controls,
  HEARD_IN_FULL_MS,
  lastAudible,
  micFrames,
  positionAfterHearing,
  type WireUtterance,
  wireUtterances,
} from '../../../../testing/providerPage.ts';
import { type Call, greeting, openCall, page, sleep, speak, until, words } from './providerCall.ts';

/**
 * Greeting, a turn, barge-in, push-to-talk and a microphone switch: the same conversation with
 * every provider (testing/providerCases.ts), in Chromium with the real audio engine, against the
 * local agent speaking the provider's protocol. What the user hears is read on a tap after the
 * player and compared with the audio the agent sent (read off the socket by the provider's wire
 * reader); what is shown is read from the DOM; what the page sent is read off the socket.
 */

let call: Call | null = null;
let root: Root | null = null;
let container: HTMLElement | null = null;
afterEach(async () => {
  page.onReceive = null;
  await call?.conversation.stop();
  call = null;
  root?.unmount();
  root = null;
  container?.remove();
  container = null;
});

type ShownTurn = { role: string; text: string; interrupted: boolean };

/** Render `ui`; returns the transcript as a user sees it (`<Transcript>`'s turns in the DOM). */
function show(target: Call, withButton = false): { turns(): ShownTurn[]; button(): HTMLButtonElement } {
  container = document.createElement('div');
  document.body.append(container);
  root = createRoot(container);
  root.render(
    <>
      {withButton ? <TalkButton conversation={target.conversation} /> : null}
      <Transcript conversation={target.conversation} />
    </>,
  );
  const box = container;
  return {
    turns: () =>
      [...box.querySelectorAll<HTMLElement>('[data-voicewire="transcript-turn"]')].map((turn) => ({
        role: turn.dataset.role ?? '',
        text: turn.querySelector('[data-voicewire="transcript-text"]')?.textContent ?? '',
        interrupted: turn.dataset.interrupted !== undefined,
      })),
    button: () => box.querySelector('button') as HTMLButtonElement,
  };
}

/** Milliseconds above −60 dBFS in `utterance` as the agent sent it. */
function sentAudibleMs(utterance: WireUtterance): number {
  return audibleMs(audibleSpans(utterance.samples, utterance.sampleRate));
}

/** The tap has reported what played up to now. */
function tapCaughtUp(target: Call): Promise<void> {
  const now = target.context().currentTime;
  return until(() => target.tap.heardUpTo() > now, 5000, 'the tap to catch up');
}

/** Quiet on the wire this long, ms, over at least this many looks (a page that is itself starved looks rarely, its frames still queued). */
const WIRE_QUIET_MS = 1000;
const QUIET_LOOKS = 40;

/**
 * Utterance `index` of the agent has all arrived and played out, and the tap has heard as much of
 * it as was sent, to 20 ms. All arrived: the vendor's end-of-audio message came after its last
 * chunk (a server starved for a second mid-reply does not end it); for a vendor with none
 * (ElevenLabs), no agent audio for a second while the page kept looking (about every 10 ms, at
 * least {@link QUIET_LOOKS} times: a main thread stalled for a second looks once, with the frames
 * of that second still queued). The mode alone cannot tell: it is `listening` whenever the player
 * has run dry for a moment mid-reply, as it may under load. Not met in 20 s, the caller's
 * assertion says what was heard.
 */
async function playedOut(target: Call, index: number): Promise<void> {
  let chunks = -1;
  let quietSince = 0;
  let looks = 0;
  await until(
    () => {
      const received = target.socket().received;
      const audio = received.filter((e) => e.frame?.kind === 'agentAudio');
      if (audio.length !== chunks) {
        chunks = audio.length;
        quietSince = performance.now();
        looks = 0;
        return false;
      }
      looks += 1;
      const utterance = wireUtterances(target.socket())[index];
      if (!utterance) return false;
      const lastChunk = audio.at(-1)!;
      if (target.providerCase.saysAudioEnds) {
        const after = received.indexOf(lastChunk) + 1;
        if (!received.slice(after).some((e) => e.frame?.kind === 'agentAudioEnd')) return false;
      } else if (performance.now() - quietSince < WIRE_QUIET_MS || looks < QUIET_LOOKS) return false;
      return (
        target.tap.heardUpTo() > lastChunk.at + 0.1 &&
        Math.abs(audibleMs(target.tap.spans(), utterance.firstAt) - sentAudibleMs(utterance)) < 20
      );
    },
    20_000,
    `utterance ${index} played out`,
  ).catch(() => {});
}

/**
 * The greeting, muted, to its end: what was sent, what was heard of it on the tap. Heard in full:
 * the same milliseconds above −60 dBFS as the agent sent (an underrun or a cut would change
 * them; a 20 ms margin for the resampler's edges).
 */
async function hearGreeting(target: Call) {
  await until(() => target.modes.includes('agentSpeaking'), 20_000, 'the greeting');
  await playedOut(target, 0);
  await until(() => target.conversation.store.getState().mode === 'listening', 20_000, 'the greeting to end');
  await tapCaughtUp(target);
  const utterance = wireUtterances(target.socket())[0]!;
  return {
    utterance,
    sentMs: sentAudibleMs(utterance),
    heardMs: audibleMs(target.tap.spans(), utterance.firstAt),
  };
}

/**
 * Each provider's whole greeting, for the barge-in's share: how far into it its last audible
 * sample is, and its whole audio (both in ms).
 */
const wholeGreetings = new Map<string, { audibleToMs: number; durationMs: number }>();

function rememberGreeting(providerCase: ProviderCase, heard: Awaited<ReturnType<typeof hearGreeting>>) {
  const whole = {
    audibleToMs: positionAfterHearing(heard.utterance, heard.sentMs),
    durationMs: durationMs(heard.utterance),
  };
  wholeGreetings.set(providerCase.name, whole);
  return whole;
}

async function wholeGreeting(providerCase: ProviderCase) {
  const known = wholeGreetings.get(providerCase.name);
  if (known !== undefined) return known;
  const listener = openCall(providerCase);
  await listener.conversation.start();
  const heard = await hearGreeting(listener);
  await listener.conversation.stop();
  return rememberGreeting(providerCase, heard);
}

function durationMs(utterance: WireUtterance, samples = utterance.samples.length): number {
  return (samples / utterance.sampleRate) * 1000;
}

describe.each(PROVIDER_CASES)('$name', (providerCase: ProviderCase) => {
  it('the greeting is heard in full and shown; a spoken turn is answered, both turns shown; the stats match the wire', async () => {
    call = openCall(providerCase);
    const ui = show(call);
    const current = call;
    await call.conversation.start();
    expect(call.conversation.store.getState().status).toBe('connected');

    const heard = await hearGreeting(call);
    expect(heard.sentMs).toBeGreaterThan(2000);
    expect(Math.abs(heard.heardMs - heard.sentMs)).toBeLessThan(HEARD_IN_FULL_MS);
    rememberGreeting(providerCase, heard);
    await until(() => ui.turns().length === 1, 5000, 'the greeting shown');
    expect(ui.turns()).toEqual([{ role: 'agent', text: greeting, interrupted: false }]);

    // The user speaks (the microphone's tone) for 800 ms, then is silent: the agent answers.
    const modesAtTurn = call.modes.length;
    await speak(call);
    await until(() => ui.turns().length === 3, 20_000, 'the user turn and the reply shown');
    await until(() => wireUtterances(current.socket()).length === 2, 20_000, 'the reply audio');
    await until(
      () => current.modes.slice(modesAtTurn).includes('agentSpeaking'),
      20_000,
      'the reply to play',
    );
    await playedOut(current, 1);
    await until(() => current.conversation.store.getState().mode === 'listening', 20_000, 'the reply to end');
    expect(ui.turns()).toEqual([
      { role: 'agent', text: greeting, interrupted: false },
      { role: 'user', text: expect.stringMatching(/of speech/), interrupted: false },
      { role: 'agent', text: 'Here is what I heard.', interrupted: false },
    ]);
    await tapCaughtUp(call);
    const reply = wireUtterances(call.socket())[1]!;
    expect(Math.abs(audibleMs(call.tap.spans(), reply.firstAt) - sentAudibleMs(reply))).toBeLessThan(
      HEARD_IN_FULL_MS,
    );

    // The stats count what crossed the socket.
    const stats = call.conversation.getStats();
    expect(stats.framesSent).toBe(micFrames(call.socket()).length);
    expect(stats.messagesReceived).toBe(call.socket().received.length);
    expect(stats.timeToFirstAudioMs.length).toBeGreaterThanOrEqual(1);
    expect(stats.interruptionMs).toEqual([]);
    expect(stats.reconnects).toBe(0);
  });

  it('barge-in: the agent is below −60 dBFS on the output within 10 ms; its turn is marked and cut to what was heard', async () => {
    const whole = await wholeGreeting(providerCase);
    call = openCall(providerCase);
    const ui = show(call);
    const current = call;
    // The barge-in is handled in the task it arrives in: by the next task the player was
    // interrupted (a task queued behind the message's own dispatch looks).
    let handledInItsTask: boolean | null = null;
    // Whether the agent was audible when it came (not in a gap of a player run dry under load).
    let wasSpeaking = false;
    page.onReceive = (entry) => {
      if (entry.frame?.kind !== 'bargeIn' || handledInItsTask !== null) return;
      wasSpeaking = current.conversation.store.getState().mode === 'agentSpeaking';
      const before = current.tap.interrupts().length;
      const next = new MessageChannel();
      next.port1.onmessage = () => {
        handledInItsTask = current.tap.interrupts().length > before;
        next.port1.close();
      };
      next.port2.postMessage(null);
    };
    await call.conversation.start();
    await until(() => audibleMs(current.tap.spans()) > 600, 20_000, '600 ms of the greeting heard');
    call.conversation.unmute();
    await until(() => bargeIns(current.socket()).length > 0, 10_000, 'the server to hear the user');
    await until(() => handledInItsTask !== null, 5000, 'the task after the barge-in');
    expect(handledInItsTask).toBe(true);
    // Handled: the player's interrupt, stamped on the audio thread's clock.
    await until(
      () => !Number.isNaN(current.tap.interrupts()[0] ?? Number.NaN),
      5000,
      'the interrupt stamped',
    );
    const handledAt = current.tap.interrupts()[0]!;
    await until(() => current.tap.heardUpTo() > handledAt + 0.2, 5000, 'the tap after the barge-in');
    call.conversation.mute();

    // Silent on the output, on the audio clock: from the first quantum after the barge-in was
    // handled to the last sample above −60 dBFS on the tap (nothing plays again before the reply).
    const spans = call.tap.spans();
    const [greetingAudio] = wireUtterances(call.socket());
    const stillAudible = lastAudible(spans, handledAt, handledAt + 0.2);
    const silentAfterMs = Number.isNaN(stillAudible) ? 0 : (stillAudible - handledAt) * 1000;
    expect(silentAfterMs).toBeLessThanOrEqual(10);
    // The library's own measure of its fade, when there was a voice to fade.
    if (wasSpeaking) {
      await until(() => current.conversation.getStats().interruptionMs.length > 0, 5000, 'the fade measured');
      expect(call.conversation.getStats().interruptionMs).toHaveLength(1);
      expect(call.conversation.getStats().interruptionMs[0]).toBeLessThanOrEqual(10);
    }

    // How far into the greeting the user got: the audible milliseconds the tap heard of it,
    // mapped onto the greeting's own timeline (an underrun's gap is not heard speech).
    const heardMs = positionAfterHearing(
      greetingAudio!,
      audibleMs(spans, greetingAudio!.firstAt, handledAt + 0.05),
    );
    expect(heardMs).toBeGreaterThan(600);
    expect(heardMs).toBeLessThan(whole.audibleToMs - 500);
    await until(() => ui.turns()[0]?.interrupted === true, 10_000, 'the greeting marked interrupted');
    const kept = words(ui.turns()[0]!.text);
    expect(kept.length).toBeGreaterThan(0);
    expect(kept.length).toBeLessThan(words(greeting).length);
    expect(kept).toEqual(words(greeting).slice(0, kept.length));
    if (providerCase.truncate) {
      // The server is told how much of the item was heard: what the tap heard, to 30 ms.
      const truncates = controls(call.socket()).filter((c) => c.type === providerCase.truncate!.type);
      expect(truncates).toHaveLength(1);
      expect(Math.abs(providerCase.truncate.heardMs(truncates[0]!.message) - heardMs)).toBeLessThan(30);
    }
    if (providerCase.saysWhatWasSpoken) {
      // The server's words spoken: the greeting's text in proportion to the audio it had sent
      // when it heard the user (on the wire before its barge-in message; a little ahead of what
      // was played), cut at a word's end; to a word (its count may be taken a chunk later).
      const bargeInIndex = call.socket().received.indexOf(bargeIns(call.socket())[0]!);
      const sentBefore = call
        .socket()
        .received.slice(0, bargeInIndex)
        .filter((e) => e.frame?.kind === 'agentAudio' && e.frame.utterance === greetingAudio!.key)
        .reduce((n, e) => n + (e.frame?.kind === 'agentAudio' ? e.frame.samples.length : 0), 0);
      const share = durationMs(greetingAudio!, sentBefore) / whole.durationMs;
      const upToCut = words(greeting.slice(0, Math.floor(greeting.length * share)));
      expect(kept.length).toBeGreaterThanOrEqual(upToCut.length - 2);
      expect(kept.length).toBeLessThanOrEqual(upToCut.length + 1);
    }
  });

  it('push-to-talk with <TalkButton>: the microphone is on the wire only while held; a press silences the agent; the release ends the turn', async () => {
    call = openCall(providerCase, { turnTaking: 'pushToTalk', muted: false });
    const ui = show(call, true);
    const current = call;
    await until(() => ui.button() !== null, 5000, 'the button');
    ui.button().click();
    await until(() => ui.button().textContent === 'Hold to talk', 10_000, 'the hold control');
    await until(() => audibleMs(current.tap.spans()) > 600, 20_000, '600 ms of the greeting heard');
    // The microphone plays a loud tone all along: nothing of it went out before the press.
    expect(micFrames(call.socket())).toHaveLength(0);
    expect(call.conversation.getStats().framesSent).toBe(0);

    // A press during the greeting silences it here and now (the player interrupted within the
    // press's own event), before the server knows; stamped on the audio thread's clock.
    // (Pressed while the greeting plays, not in a gap of a player run dry under load: the
    // continuation runs straight after the check.)
    await until(
      () => current.conversation.store.getState().mode === 'agentSpeaking',
      20_000,
      'the greeting playing',
    );
    const sentBeforePress = call.socket().sent.length;
    ui.button().dispatchEvent(new PointerEvent('pointerdown', { bubbles: true, button: 0, pointerId: 1 }));
    expect(call.conversation.store.getState().mode).toBe('userSpeaking');
    expect(call.tap.interrupts()).toHaveLength(1);
    await until(() => !Number.isNaN(current.tap.interrupts()[0]!), 5000, 'the interrupt stamped');
    const pressedAt = call.tap.interrupts()[0]!;
    await until(() => current.conversation.getStats().interruptionMs.length === 1, 5000, 'the fade to end');
    expect(call.conversation.getStats().interruptionMs[0]).toBeLessThanOrEqual(10);
    await until(() => current.tap.heardUpTo() > pressedAt + 0.2, 5000, 'the tap after the press');
    const stillAudible = lastAudible(call.tap.spans(), pressedAt, pressedAt + 0.2);
    expect(Number.isNaN(stillAudible) ? 0 : (stillAudible - pressedAt) * 1000).toBeLessThanOrEqual(10);
    const pressControls = controls(call.socket()).filter((c) => c.index >= sentBeforePress);
    for (const type of providerCase.pushToTalk.pressed)
      expect(pressControls.map((c) => c.type)).toContain(type);

    // Held: the microphone's tone is on the wire.
    await until(() => micFrames(current.socket()).length >= 40, 10_000, '800 ms of the microphone');
    const releasedAt = call.socket().sent.length;
    ui.button().dispatchEvent(new PointerEvent('pointerup', { bubbles: true, button: 0, pointerId: 1 }));
    expect(call.conversation.store.getState().talking).toBe(false);
    const held = micFrames(call.socket()).filter((f) => call!.socket().sent.indexOf(f) < releasedAt);
    const peaks = held.map((f) => (f.frame?.kind === 'micAudio' ? peak(f.frame.samples) : -1));
    const shown = `peaks ${peaks.map((p) => p.toFixed(3)).join(' ')}`;
    // Each frame is the tone (0.25) or, where Chromium's fake microphone stalled under load, its
    // digital zeros; never attenuated or gated. Most are the tone.
    expect(
      peaks.every((p) => p === 0 || p > 0.1),
      shown,
    ).toBe(true);
    expect(peaks.filter((p) => p > 0.1).length, shown).toBeGreaterThan(held.length / 2);

    // Released: the agent answers the turn.
    await until(() => ui.turns().some((t) => t.role === 'user'), 20_000, 'the user turn shown');
    await until(() => ui.turns().at(-1)?.text === 'Here is what I heard.', 20_000, 'the reply shown');
    // Then, for a while, nothing more of the microphone.
    await sleep(1500);
    const after = call.socket().sent.slice(releasedAt);
    const tail = after.filter((e) => e.frame?.kind === 'micAudio');
    const { released } = providerCase.pushToTalk;
    if (released.length > 0) {
      // The vendor's own control ends the turn: exactly those frames, at once, and no tail.
      expect(
        controls(call.socket())
          .filter((c) => c.index >= releasedAt)
          .slice(0, released.length)
          .map((c) => c.type),
      ).toEqual(released);
      expect(tail).toHaveLength(0);
    } else {
      // The microphone gate and a second of digital silence close the turn on the server's VAD.
      expect(tail).toHaveLength(50);
      expect(tail.every((e) => e.frame?.kind === 'micAudio' && peak(e.frame.samples) === 0)).toBe(true);
    }
  });

  it('switching the microphone mid-call: the same call, no reconnect, its frames keep flowing', async () => {
    call = openCall(providerCase);
    const current = call;
    await call.conversation.start();
    const devices = (await navigator.mediaDevices.enumerateDevices()).filter((d) => d.kind === 'audioinput');
    const inUse = call.tracks().at(-1)!.getSettings().deviceId;
    const other = devices.find((d) => d.deviceId !== inUse && d.deviceId !== 'default');
    expect(other).toBeDefined();
    await until(() => micFrames(current.socket()).length >= 10, 10_000, 'frames');
    const before = micFrames(call.socket()).length;
    await call.conversation.setInputDevice(other!.deviceId);
    expect(call.tracks().at(-1)!.getSettings().deviceId).toBe(other!.deviceId);
    expect(call.tracks().filter((t) => t.readyState === 'live')).toHaveLength(1);
    await until(() => micFrames(current.socket()).length >= before + 25, 10_000, 'frames after the switch');
    expect(call.sockets()).toHaveLength(1);
    expect(call.conversation.getStats().reconnects).toBe(0);
    expect(call.conversation.store.getState().status).toBe('connected');
  });
});

function peak(samples: Float32Array): number {
  let max = 0;
  for (const sample of samples) max = Math.max(max, Math.abs(sample));
  return max;
}
