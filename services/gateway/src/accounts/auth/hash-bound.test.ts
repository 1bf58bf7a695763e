import { describe, expect, it } from 'vitest';
import { BoundFullError, createConcurrencyBound } from './hash-bound.ts';

/** A promise the test settles by hand, so no test depends on timing. */
function deferred<T = void>() {
  let resolve!: (value: T) => void;
  let reject!: (error: Error) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** Lets every settled promise's callbacks run. */
const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('createConcurrencyBound', () => {
  it('runs at most `concurrency` calls at once and starts the queued ones first in, first out', async () => {
    const bound = createConcurrencyBound({ concurrency: 2, queue: 3 });
    const gates = Array.from({ length: 5 }, () => deferred());
    const started: number[] = [];
    const results = gates.map((gate, index) =>
      bound.run(async () => {
        started.push(index);
        await gate.promise;
        return index;
      }),
    );
    await settle();
    expect(started).toEqual([0, 1]);
    expect([bound.running, bound.waiting]).toEqual([2, 3]);

    gates[1]?.resolve();
    await settle();
    expect(started).toEqual([0, 1, 2]);
    gates[0]?.resolve();
    await settle();
    expect(started).toEqual([0, 1, 2, 3]);
    gates[3]?.resolve();
    await settle();
    expect(started).toEqual([0, 1, 2, 3, 4]);
    expect([bound.running, bound.waiting]).toEqual([2, 0]);
    for (const gate of gates) gate.resolve();
    expect(await Promise.all(results)).toEqual([0, 1, 2, 3, 4]);
    expect([bound.running, bound.waiting]).toEqual([0, 0]);
  });

  it('refuses at once, without running the work, when the queue is full', async () => {
    const bound = createConcurrencyBound({ concurrency: 1, queue: 1 });
    const gate = deferred();
    let calls = 0;
    const work = async () => {
      calls++;
      await gate.promise;
    };
    const first = bound.run(work);
    const second = bound.run(work);
    await expect(bound.run(work)).rejects.toBeInstanceOf(BoundFullError);
    await settle();
    expect(calls).toBe(1);
    gate.resolve();
    await Promise.all([first, second]);
    expect(calls).toBe(2);
  });

  it('with a queue of 0 refuses whatever finds every slot busy', async () => {
    const bound = createConcurrencyBound({ concurrency: 1, queue: 0 });
    const gate = deferred();
    const first = bound.run(() => gate.promise);
    await expect(bound.run(async () => 1)).rejects.toBeInstanceOf(BoundFullError);
    gate.resolve();
    await first;
    expect(await bound.run(async () => 2)).toBe(2);
  });

  it('frees the slot when the work rejects or throws, and passes the error on', async () => {
    const bound = createConcurrencyBound({ concurrency: 1, queue: 1 });
    const gate = deferred();
    const failing = bound.run(() => gate.promise);
    const thrower = bound.run(() => {
      throw new Error('thrown before any promise');
    });
    gate.reject(new Error('argon2 failed'));
    await expect(failing).rejects.toThrow('argon2 failed');
    await expect(thrower).rejects.toThrow('thrown before any promise');
    expect([bound.running, bound.waiting]).toEqual([0, 0]);
    expect(await bound.run(async () => 'free again')).toBe('free again');
  });

  it('rejects settings that would never run anything', () => {
    expect(() => createConcurrencyBound({ concurrency: 0, queue: 1 })).toThrow(RangeError);
    expect(() => createConcurrencyBound({ concurrency: 1, queue: -1 })).toThrow(RangeError);
  });
});
