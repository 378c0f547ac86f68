/**
 * The waits before an idle connection closes (src/engine/idle-close.ts), on a fake clock: the last
 * call ends at the sooner of its own length and the stop's deadline, the check comes only after
 * one more poll, and a cancelled wait never checks.
 */

import { afterEach, beforeEach, describe, expect, test, vi } from 'vitest';
import { LAST_CALL_MS } from '../../src/engine/deadlines.js';
import { IdleClose } from '../../src/engine/idle-close.js';

beforeEach(() => {
  vi.useFakeTimers();
  vi.setSystemTime(1_000_000);
});
afterEach(() => {
  vi.useRealTimers();
});

describe('IdleClose', () => {
  test('afterPoll checks after two turns of the check phase, once however often it is asked', () => {
    let checks = 0;
    const waits = new IdleClose(() => checks++);
    waits.afterPoll();
    waits.afterPoll();
    vi.advanceTimersToNextTimer();
    expect(checks).toBe(0);
    vi.advanceTimersToNextTimer();
    expect(checks).toBe(1);
    waits.afterPoll();
    vi.runAllTimers();
    expect(checks).toBe(2);
  });

  test('lastCall waits LAST_CALL_MS from the last response, or until the stop\'s deadline if sooner', () => {
    let checks = 0;
    const waits = new IdleClose(() => checks++);
    const idleSince = Date.now() - 100;
    waits.lastCall(idleSince, Infinity);
    vi.advanceTimersByTime(LAST_CALL_MS - 101);
    vi.advanceTimersToNextTimer();
    expect(checks).toBe(0);
    vi.runAllTimers();
    expect(checks).toBe(1);
    const sooner = new IdleClose(() => checks++);
    sooner.lastCall(Date.now(), Date.now() + 50);
    vi.advanceTimersByTime(50);
    vi.runAllTimers();
    expect(checks).toBe(2);
    expect(Date.now() - 1_000_000).toBeLessThan(LAST_CALL_MS + 100);
  });

  test('a last call already over goes straight to the poll; a cancelled one never checks', () => {
    let checks = 0;
    const over = new IdleClose(() => checks++);
    over.lastCall(Date.now() - LAST_CALL_MS, Infinity);
    vi.runAllTimers();
    expect(checks).toBe(1);
    const cancelled = new IdleClose(() => checks++);
    cancelled.lastCall(Date.now(), Infinity);
    cancelled.cancel();
    vi.runAllTimers();
    expect(checks).toBe(1);
  });
});
