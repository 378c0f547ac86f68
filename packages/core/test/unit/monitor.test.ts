/**
 * The monitor's timer wheel on its own (src/engine/monitor.ts), on a fake clock: when entries
 * fire, re-arming and cancelling, deadlines a turn of the wheel or more away, and callbacks that
 * touch other entries.
 */

import { afterEach, beforeEach, describe, expect, test, vi } from 'vitest';
import { Monitor, TimerKind, type TimerEntry } from '../../src/engine/monitor.js';

beforeEach(() => {
  vi.useFakeTimers();
  vi.setSystemTime(1_000_000);
});
afterEach(() => {
  vi.useRealTimers();
});

function entry(fired: [string, TimerKind][], name: string, onTimeout?: () => void): TimerEntry {
  return {
    timerPrev: null,
    timerNext: null,
    timerSlot: -1,
    timerDeadline: 0,
    timerKind: TimerKind.Idle,
    onTimeout(kind) {
      fired.push([name, kind]);
      onTimeout?.();
    },
  };
}

describe('Monitor', () => {
  test('an entry fires once, with its kind, no earlier than its deadline and within one tick of it', () => {
    const fired: [string, TimerKind][] = [];
    const monitor = new Monitor(10);
    const a = entry(fired, 'a');
    monitor.arm(a, TimerKind.Head, 100);
    expect(monitor.size).toBe(1);
    vi.advanceTimersByTime(99);
    expect(fired).toEqual([]);
    vi.advanceTimersByTime(11);
    expect(fired).toEqual([['a', TimerKind.Head]]);
    expect([monitor.size, a.timerSlot]).toEqual([0, -1]);
    vi.advanceTimersByTime(1000);
    expect(fired).toHaveLength(1);
  });

  test('re-arming replaces the deadline; cancelling or arming for 0 ms forgets it', () => {
    const fired: [string, TimerKind][] = [];
    const monitor = new Monitor(10);
    const a = entry(fired, 'a');
    const b = entry(fired, 'b');
    monitor.arm(a, TimerKind.Head, 50);
    monitor.arm(a, TimerKind.Idle, 200);
    monitor.arm(b, TimerKind.Body, 50);
    monitor.cancel(b);
    monitor.cancel(b);
    vi.advanceTimersByTime(100);
    expect(fired).toEqual([]);
    vi.advanceTimersByTime(110);
    expect(fired).toEqual([['a', TimerKind.Idle]]);
    monitor.arm(a, TimerKind.Idle, 50);
    monitor.arm(a, TimerKind.Idle, 0);
    vi.advanceTimersByTime(100);
    expect([fired.length, monitor.size]).toEqual([1, 0]);
  });

  test('a deadline more than a turn of the wheel away stays until its own turn', () => {
    const fired: [string, TimerKind][] = [];
    const monitor = new Monitor(10);
    // 1024 slots of 10 ms: 25 s is about two and a half turns.
    monitor.arm(entry(fired, 'far'), TimerKind.Idle, 25_000);
    monitor.arm(entry(fired, 'near'), TimerKind.Idle, 10_240);
    vi.advanceTimersByTime(10_250);
    expect(fired.map(([name]) => name)).toEqual(['near']);
    vi.advanceTimersByTime(14_700);
    expect(fired.map(([name]) => name)).toEqual(['near']);
    vi.advanceTimersByTime(100);
    expect(fired.map(([name]) => name)).toEqual(['near', 'far']);
  });

  test('a callback may re-arm another entry due in the same tick, which then does not fire', () => {
    const fired: [string, TimerKind][] = [];
    const monitor = new Monitor(10);
    // Whichever of the two fires first pushes the other one second later.
    const a: TimerEntry = entry(fired, 'a', () => monitor.arm(b, TimerKind.Write, 1000));
    const b: TimerEntry = entry(fired, 'b', () => monitor.arm(a, TimerKind.Write, 1000));
    monitor.arm(a, TimerKind.Idle, 30);
    monitor.arm(b, TimerKind.Idle, 30);
    vi.advanceTimersByTime(40);
    expect(fired).toHaveLength(1);
    const [first] = fired[0]!;
    vi.advanceTimersByTime(1000);
    expect(fired).toEqual([[first, TimerKind.Idle], [first === 'a' ? 'b' : 'a', TimerKind.Write]]);
  });

  test('a late tick catches up on every slot it missed', () => {
    const fired: [string, TimerKind][] = [];
    const monitor = new Monitor(10);
    for (let i = 1; i <= 5; i++) monitor.arm(entry(fired, `e${i}`), TimerKind.Idle, i * 10);
    // The clock jumps ahead of the interval, as under load.
    vi.setSystemTime(Date.now() + 500);
    vi.advanceTimersByTime(10);
    expect(fired.map(([name]) => name).sort()).toEqual(['e1', 'e2', 'e3', 'e4', 'e5']);
  });

  test('the clock stops when nothing is armed, and starts again with the next entry', () => {
    const fired: [string, TimerKind][] = [];
    const monitor = new Monitor(10);
    monitor.arm(entry(fired, 'a'), TimerKind.Idle, 10);
    vi.advanceTimersByTime(30);
    expect(vi.getTimerCount()).toBe(0);
    monitor.arm(entry(fired, 'b'), TimerKind.Idle, 10);
    expect(vi.getTimerCount()).toBe(1);
    vi.advanceTimersByTime(30);
    expect(fired.map(([name]) => name)).toEqual(['a', 'b']);
    monitor.close();
  });
});
