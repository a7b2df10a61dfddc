import { vi } from 'vitest';

/** A requestAnimationFrame the test steps by hand, one frame at a time. */
export function stubAnimationFrames() {
  let now = 0;
  let queue = new Map<number, FrameRequestCallback>();
  let nextId = 1;
  vi.stubGlobal('requestAnimationFrame', (callback: FrameRequestCallback) => {
    const id = nextId++;
    queue.set(id, callback);
    return id;
  });
  vi.stubGlobal('cancelAnimationFrame', (id: number) => {
    queue.delete(id);
  });
  return {
    /** Runs the callbacks queued for the next frame, 1000/60 ms later. */
    frame() {
      now += 1000 / 60;
      const callbacks = [...queue.values()];
      queue = new Map();
      for (const callback of callbacks) callback(now);
    },
    get pending() {
      return queue.size;
    },
  };
}

/** matchMedia answering prefers-reduced-motion as asked. */
export function stubReducedMotion(reduce: boolean) {
  vi.stubGlobal('matchMedia', (query: string) => ({
    matches: reduce && query.includes('prefers-reduced-motion: reduce'),
    media: query,
    onchange: null,
    addEventListener() {},
    removeEventListener() {},
    addListener() {},
    removeListener() {},
    dispatchEvent: () => false,
  }));
}
