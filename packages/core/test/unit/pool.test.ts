/**
 * The worker pool on its own (src/engine/pool.ts): slots, the FIFO queue, growth past the
 * threshold, the once-a-second resize (on a fake clock) and the hand-off when a member releases
 * while it is being granted.
 */

import { afterEach, describe, expect, test, vi } from 'vitest';
import { WorkerPool, type PoolMember } from '../../src/engine/pool.js';

afterEach(() => {
  vi.useRealTimers();
});

function member(name: string, granted: string[], onGrant?: () => void): PoolMember {
  return {
    workerGranted: () => {
      granted.push(name);
      onGrant?.();
    },
  };
}

describe('WorkerPool', () => {
  test('hands out its slots, queues the rest in order, and passes a released slot to the first waiting', () => {
    const granted: string[] = [];
    const pool = new WorkerPool({ minThreads: 2, maxThreads: 2, queueSize: 10 });
    expect(pool.acquire(member('a', granted))).toBe(true);
    expect(pool.acquire(member('b', granted))).toBe(true);
    expect(pool.acquire(member('c', granted))).toBe(false);
    expect(pool.acquire(member('d', granted))).toBe(false);
    expect(pool.stats()).toMatchObject({ threads: 2, busy: 2, queued: 2 });
    pool.release();
    expect(granted).toEqual(['c']);
    pool.release();
    expect(granted).toEqual(['c', 'd']);
    expect(pool.stats()).toMatchObject({ busy: 2, queued: 0 });
  });

  test('a member that leaves the queue is skipped', () => {
    const granted: string[] = [];
    const pool = new WorkerPool({ minThreads: 1, maxThreads: 1, queueSize: 10 });
    pool.acquire(member('a', granted));
    const b = member('b', granted);
    pool.acquire(b);
    pool.acquire(member('c', granted));
    pool.remove(b);
    pool.release();
    expect(granted).toEqual(['c']);
  });

  test('full: every slot busy and queueSize members waiting', () => {
    const pool = new WorkerPool({ minThreads: 1, maxThreads: 1, queueSize: 1 });
    pool.acquire(member('a', []));
    expect(pool.full).toBe(false);
    pool.acquire(member('b', []));
    expect(pool.full).toBe(true);
  });

  test('maxThreads 0: grows at once for whoever waits', () => {
    const pool = new WorkerPool({ minThreads: 1, maxThreads: 0, queueSize: 10 });
    for (let i = 0; i < 5; i++) expect(pool.acquire(member(String(i), []))).toBe(true);
    expect(pool.stats()).toMatchObject({ threads: 5, busy: 5, queued: 0, grown: 4 });
  });

  test('with a limit, grows in a burst once more than maxThreads / 10 + 2 wait, never past maxThreads', () => {
    const granted: string[] = [];
    const pool = new WorkerPool({ minThreads: 1, maxThreads: 4, queueSize: 10 });
    pool.acquire(member('busy', granted));
    // The threshold is floor(4 / 10) + 2 = 2: the third waiting member triggers growth.
    expect(pool.acquire(member('w1', granted))).toBe(false);
    expect(pool.acquire(member('w2', granted))).toBe(false);
    pool.acquire(member('w3', granted));
    expect(granted).toEqual(['w1', 'w2']);
    expect(pool.stats()).toMatchObject({ threads: 4, busy: 4, queued: 0, grown: 1 });
  });

  test('once a second: grows for what still waits, or shrinks by one towards minThreads', () => {
    vi.useFakeTimers();
    const granted: string[] = [];
    const pool = new WorkerPool({ minThreads: 1, maxThreads: 10, queueSize: 10 });
    pool.start();
    pool.acquire(member('a', granted));
    pool.acquire(member('b', granted));
    vi.advanceTimersByTime(1000);
    expect(granted).toEqual(['b']);
    expect(pool.stats()).toMatchObject({ threads: 2, busy: 2 });
    pool.release();
    pool.release();
    vi.advanceTimersByTime(1000);
    expect(pool.stats()).toMatchObject({ threads: 1, shrunk: 1 });
    vi.advanceTimersByTime(5000);
    expect(pool.stats().threads).toBe(1);
    pool.stop();
  });

  test('a granted member that releases at once passes the slot on without recursion', () => {
    const granted: string[] = [];
    const pool = new WorkerPool({ minThreads: 1, maxThreads: 1, queueSize: 10_000 });
    pool.acquire(member('first', granted));
    for (let i = 0; i < 5000; i++) pool.acquire(member(String(i), granted, () => pool.release()));
    pool.release();
    expect(granted).toHaveLength(5000);
    expect(pool.stats()).toMatchObject({ busy: 0, queued: 0 });
  });
});
