import { describe, expect, it } from 'vitest';
import { staleWorklets } from '../../../scripts/build-worklets.ts';

describe('generated worklet modules', () => {
  it('match their sources (run `pnpm build:worklets` after editing a worklet or the DSP it imports)', async () => {
    expect(await staleWorklets()).toEqual([]);
  }, 30_000);
});
