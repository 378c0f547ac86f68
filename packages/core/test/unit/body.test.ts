/**
 * `wsgi.input` on its own (src/gateway/body.ts): what each read answers as bytes arrive, when it
 * waits, and what the connection is told — without a socket in between.
 */

import { describe, expect, test } from 'vitest';
import { BodyInput, type BodySource } from '../../src/gateway/body.js';

function source() {
  const told = { wanted: 0, consumed: 0 };
  const src: BodySource = {
    wantBody: () => void told.wanted++,
    bodyConsumed: () => void told.consumed++,
  };
  return { src, told };
}

const text = (b: Buffer | null) => (b === null ? null : b.toString('latin1'));

describe('read(n)', () => {
  test('answers at once from what is buffered, and without a size only at the end', async () => {
    const { src, told } = source();
    const body = new BodyInput(src);
    body.push(Buffer.from('hello world'));
    expect(text(await body.read(5))).toBe('hello');
    expect(told.consumed).toBe(1);
    const rest = body.read();
    expect(told.wanted).toBe(1);
    body.push(Buffer.from('!'));
    body.end();
    expect(text(await rest)).toBe(' world!');
    expect(text(await body.read())).toBe('');
  });

  test('waits until it can be answered in full, across chunks, or the body ends short', async () => {
    const body = new BodyInput(null);
    const first = body.read(6);
    body.push(Buffer.from('abc'));
    body.push(Buffer.from('defg'));
    expect(text(await first)).toBe('abcdef');
    const second = body.read(10);
    body.end();
    expect(text(await second)).toBe('g');
  });

  test('pending reads are answered in the order they were made', async () => {
    const body = new BodyInput(null);
    const reads = [body.read(2), body.readline(), body.read()];
    body.push(Buffer.from('ab'));
    body.push(Buffer.from('cd\nef'));
    body.end();
    expect((await Promise.all(reads)).map(text)).toEqual(['ab', 'cd\n', 'ef']);
  });

  test('read(0) is empty at once; a size that is not a number is a TypeError', async () => {
    const body = new BodyInput(null);
    expect(text(await body.read(0))).toBe('');
    expect(() => body.read('x' as unknown as number)).toThrow(TypeError);
  });
});

describe('readline and readlines', () => {
  test('a line ends at LF, or at the size, or at the end of the body', async () => {
    const body = new BodyInput(null);
    body.push(Buffer.from('one\ntwo-long\nlast'));
    body.end();
    expect(text(await body.readline())).toBe('one\n');
    expect(text(await body.readline(3))).toBe('two');
    expect(text(await body.readline())).toBe('-long\n');
    expect(text(await body.readline())).toBe('last');
    expect(text(await body.readline())).toBe('');
  });

  test('a line arriving a byte at a time is answered when its LF comes', async () => {
    const body = new BodyInput(null);
    const line = body.readline();
    for (const byte of 'slow\n') body.push(Buffer.from(byte));
    expect(text(await line)).toBe('slow\n');
  });

  test('readlines stops at the hint', async () => {
    const body = new BodyInput(null);
    body.push(Buffer.from('a\nbb\nccc\n'));
    body.end();
    expect((await body.readlines(4)).map(text)).toEqual(['a\n', 'bb\n']);
    expect((await body.readlines()).map(text)).toEqual(['ccc\n']);
  });
});

describe('async iteration, discard and fail', () => {
  test('iterates the chunks as they arrived, then ends', async () => {
    const body = new BodyInput(null);
    body.push(Buffer.from('x'));
    body.push(Buffer.from('yz'));
    body.end();
    const seen: string[] = [];
    for await (const chunk of body) seen.push(text(chunk)!);
    expect(seen).toEqual(['x', 'yz']);
  });

  test('discard drops what is buffered and what comes, and a waiting read gets the end of the body', async () => {
    const body = new BodyInput(null);
    body.push(Buffer.from('unread'));
    const waiting = body.read();
    body.discard();
    expect(body.buffered).toBe(0);
    body.push(Buffer.from('more'));
    expect(body.buffered).toBe(0);
    body.end();
    expect(text(await waiting)).toBe('');
  });

  test('fail rejects the waiting reads and every later one, with the same error', async () => {
    const body = new BodyInput(null);
    const waiting = body.read(10);
    const error = new Error('the client closed the connection');
    body.fail(error);
    await expect(waiting).rejects.toBe(error);
    await expect(body.readline()).rejects.toBe(error);
  });

  test('a read nobody awaits does not become an unhandled rejection', async () => {
    const body = new BodyInput(null);
    void body.read(1);
    body.fail(new Error('gone'));
    // The rejection was marked handled; awaiting a later read still sees it.
    await expect(body.read(1)).rejects.toThrow('gone');
  });
});

describe('readChunkNow', () => {
  test('a buffered chunk at once, undefined while the next has not arrived, null at the end', () => {
    const { src, told } = source();
    const body = new BodyInput(src);
    expect(body.readChunkNow()).toBeUndefined();
    // Not waiting: the connection is not asked for more, as a pending read would.
    expect(told.wanted).toBe(0);
    body.push(Buffer.from('ab'));
    body.push(Buffer.from('c'));
    expect(text(body.readChunkNow()!)).toBe('ab');
    expect(told.consumed).toBe(1);
    expect(text(body.readChunkNow()!)).toBe('c');
    expect(body.readChunkNow()).toBeUndefined();
    body.end();
    expect(body.readChunkNow()).toBeNull();
  });

  test('leaves chunks to a read that is already waiting, and throws the body error', async () => {
    const body = new BodyInput(null);
    const waiting = body[Symbol.asyncIterator]().next();
    expect(body.readChunkNow()).toBeUndefined();
    body.push(Buffer.from('first'));
    expect(text((await waiting).value as Buffer)).toBe('first');
    // A read of 10 bytes waits: what arrives is its, not readChunkNow's.
    const ten = body.read(10);
    body.push(Buffer.from('abc'));
    expect(body.readChunkNow()).toBeUndefined();
    body.push(Buffer.from('defghij'));
    expect(text(await ten)).toBe('abcdefghij');
    const error = new Error('client gone');
    body.fail(error);
    expect(() => body.readChunkNow()).toThrow(error);
  });
});
