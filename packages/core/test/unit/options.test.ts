import { describe, expect, test } from 'vitest';
import { RocketError } from '../../src/errors.js';
import { checkOptionChanges, LIVE_OPTIONS, OPTIONS, resolveOptions } from '../../src/options.js';
import { Rocket } from '../../src/rocket.js';

const app = () => [];

describe('resolveOptions', () => {
  test('fills every option of the table with its default', () => {
    const resolved = resolveOptions({});
    expect(Object.keys(resolved).sort()).toEqual(Object.keys(OPTIONS).sort());
  });

  test('refuses an unknown option, naming it', () => {
    expect(() => resolveOptions({ timout: 5 } as never)).toThrow(/unknown option "timout"/);
  });

  test('refuses a bad value, naming the option and the value', () => {
    expect(() => resolveOptions({ timeout: -1 })).toThrow(expect.objectContaining({ code: 'ROCKET_ERR_INVALID_OPTION', message: expect.stringMatching(/option timeout .*got -1/) }));
  });
});

describe('checkOptionChanges', () => {
  test('returns the checked changes, skipping undefined ones', () => {
    expect(checkOptionChanges({ timeout: 30, maxBodySize: 1024, headerTimeout: undefined })).toEqual({ timeout: 30, maxBodySize: 1024 });
  });

  test('refuses an option fixed once the server is built', () => {
    expect(() => checkOptionChanges({ minThreads: 4 })).toThrow(/minThreads cannot be changed on a running server/);
  });

  test('refuses unknown options and bad values as resolveOptions does', () => {
    expect(() => checkOptionChanges({ nope: 1 } as never)).toThrow(RocketError);
    expect(() => checkOptionChanges({ maxHeaders: 'many' } as never)).toThrow(/option maxHeaders/);
  });

  test('every live option is in the table', () => {
    for (const name of LIVE_OPTIONS) expect(Object.hasOwn(OPTIONS, name)).toBe(true);
  });
});

describe('Rocket.updateOptions', () => {
  test('applies checked changes to the options the server reads', () => {
    const server = new Rocket(['127.0.0.1', 0], 'wsgi', { wsgi_app: app }, { timeout: 5 });
    server.updateOptions({ timeout: 30, maxRequestsPerConnection: 10 });
    expect(server.options.timeout).toBe(30);
    expect(server.options.maxRequestsPerConnection).toBe(10);
  });

  test('applies nothing when one change is refused', () => {
    const server = new Rocket(['127.0.0.1', 0], 'wsgi', { wsgi_app: app }, { timeout: 5 });
    expect(() => server.updateOptions({ timeout: 30, maxBodySize: -5 })).toThrow(/maxBodySize/);
    expect(server.options.timeout).toBe(5);
  });
});
