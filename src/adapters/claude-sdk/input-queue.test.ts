import { describe, expect, it } from 'vitest';
import { InputQueue } from './input-queue.js';

describe('InputQueue', () => {
  it('yields what was pushed before iteration, in order', async () => {
    const q = new InputQueue<number>();
    q.push(1);
    q.push(2);
    q.end();
    const seen: number[] = [];
    for await (const item of q) seen.push(item);
    expect(seen).toEqual([1, 2]);
  });

  it('waits for pushes while iterating, and ends after end()', async () => {
    const q = new InputQueue<string>();
    const it = q[Symbol.asyncIterator]();
    const first = it.next();
    q.push('a');
    expect(await first).toEqual({ value: 'a', done: false });
    const second = it.next();
    q.push('b');
    q.push('c');
    expect(await second).toEqual({ value: 'b', done: false });
    expect(await it.next()).toEqual({ value: 'c', done: false });
    const last = it.next();
    q.end();
    expect((await last).done).toBe(true);
  });

  it('delivers items queued before end(), then ends', async () => {
    const q = new InputQueue<number>();
    const it = q[Symbol.asyncIterator]();
    q.push(1);
    q.end();
    expect(await it.next()).toEqual({ value: 1, done: false });
    expect((await it.next()).done).toBe(true);
  });

  it('refuses a push after end()', () => {
    const q = new InputQueue<number>();
    q.end();
    expect(() => q.push(1)).toThrow('push after end');
  });
});
