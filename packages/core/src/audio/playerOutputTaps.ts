import { createFrequencyTap, emptyFrequencyData, type FrequencyTap } from './frequencyTap.ts';
import { setContextOutputDevice } from './outputDevice.ts';
import type { Player } from './types.ts';

/**
 * Adds what reads or routes the player's output without touching its queue: the spectrum
 * (`getFrequencyData`, an AnalyserNode on the player's node, created on the first read), the
 * output device (`setOutputDevice`) and the node itself (`output`, the echo guard's reference). Kept apart from the player's queue logic in createPlayer.ts.
 */
export function withOutputTaps(player: Player, context: BaseAudioContext, node: AudioNode): Player {
  let tap: FrequencyTap | undefined;
  let closed = false;
  const close = player.close;
  (player as { output?: AudioNode }).output = node;
  player.getFrequencyData = (out) => {
    if (closed) return emptyFrequencyData(out);
    if (tap === undefined) {
      tap = createFrequencyTap(context);
      tap.connect(node);
    }
    return tap.read(out);
  };
  player.setOutputDevice = (deviceId) => setContextOutputDevice(context, deviceId);
  player.close = () => {
    closed = true;
    tap?.close();
    close();
  };
  return player;
}
