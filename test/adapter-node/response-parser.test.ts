// The response parser on its own: bytes as Node's ServerResponse writes them in, calls out.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { ResponseParseError, ResponseParser, type ResponseSink } from '@rocketserver/adapter-node';

type Call =
  | ['informational', number, string, string[]]
  | ['head', number, string, string[], boolean]
  | ['body', string]
  | ['end', string[] | null];

/** Feeds `parts` to a parser and records what it reports; body chunks are joined. */
function parse(parts: (string | Buffer)[], options: { isHead?: boolean; finish?: boolean } = {}): Call[] {
  const calls: Call[] = [];
  const sink: ResponseSink = {
    informational: (code, reason, headers) => void calls.push(['informational', code, reason, headers]),
    head: (code, reason, headers, close) => void calls.push(['head', code, reason, headers, close]),
    body: (chunk) => {
      const last = calls.at(-1);
      if (last?.[0] === 'body') last[1] += chunk.toString('latin1');
      else calls.push(['body', chunk.toString('latin1')]);
      return true;
    },
    end: (trailers) => void calls.push(['end', trailers]),
  };
  const parser = new ResponseParser(sink, options.isHead ?? false);
  for (const part of parts) parser.write(Buffer.from(part, 'latin1'));
  if (options.finish) parser.finish();
  return calls;
}

const HELLO = 'HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 5\r\nDate: Sat, 21 Nov 2026 10:00:00 GMT\r\nConnection: keep-alive\r\nKeep-Alive: timeout=5\r\n\r\nhello';

describe('ResponseParser: the head', () => {
  it('reports status, reason and the headers in order, without Node framing of its own connection', () => {
    expect(parse([HELLO])).toEqual([
      ['head', 200, 'OK', ['Content-Type', 'text/plain', 'Content-Length', '5', 'Date', 'Sat, 21 Nov 2026 10:00:00 GMT'], false],
      ['body', 'hello'],
      ['end', null],
    ]);
  });

  it('keeps the case, number and order of headers (several Set-Cookie lines)', () => {
    const head = 'HTTP/1.1 200 OK\r\nset-cookie: a=1\r\nX-Thing: one\r\nSet-Cookie: b=2\r\ncontent-length: 0\r\n\r\n';
    expect(parse([head])[0]).toEqual(['head', 200, 'OK', ['set-cookie', 'a=1', 'X-Thing', 'one', 'Set-Cookie', 'b=2', 'content-length', '0'], false]);
  });

  it.each([
    ['HTTP/1.1 200', 200, ''],
    ['HTTP/1.1 200 ', 200, ''],
    ['HTTP/1.0 404 Not Found', 404, 'Not Found'],
    ['HTTP/1.1 599 Made Up: with a colon', 599, 'Made Up: with a colon'],
  ])('reads the status line %j', (line, code, reason) => {
    expect(parse([`${line}\r\nContent-Length: 0\r\n\r\n`])[0]).toEqual(['head', code, reason, ['Content-Length', '0'], false]);
  });

  it.each([
    'HTTP/2 200 OK',
    'HTTP/1.2 200 OK',
    'HTTP/1.1 20 OK',
    'HTTP/1.1 2000 OK',
    'HTTP/1.1 200OK',
    'HTTP/1.1 2x0 OK',
    'http/1.1 200 OK',
    'hello',
    '',
  ])('refuses the status line %j', (line) => {
    expect(() => parse([`${line}\r\nContent-Length: 0\r\n\r\n`])).toThrow(ResponseParseError);
  });

  it.each(['no colon here', ': empty name', ' '])('refuses the header line %j', (line) => {
    expect(() => parse([`HTTP/1.1 200 OK\r\n${line}\r\nContent-Length: 0\r\n\r\n`])).toThrow(ResponseParseError);
  });

  it('drops every hop-by-hop field whatever its case, and notes Connection: close', () => {
    const head = 'HTTP/1.1 200 OK\r\nCONNECTION: keep-alive, Close\r\nkeep-alive: timeout=5\r\nProxy-Connection: x\r\nTE: trailers\r\nUpgrade: websocket\r\nX-Kept: yes\r\nContent-Length: 0\r\n\r\n';
    expect(parse([head])[0]).toEqual(['head', 200, 'OK', ['X-Kept', 'yes', 'Content-Length', '0'], true]);
  });

  it.each([
    ['close', true],
    ['Close', true],
    ['keep-alive', false],
    ['closed', false],
    ['upgrade, close', true],
  ])('Connection: %s → close is %s', (value, close) => {
    expect(parse([`HTTP/1.1 200 OK\r\nConnection: ${value}\r\nContent-Length: 0\r\n\r\n`])[0]![4]).toBe(close);
  });

  it('keeps Upgrade on a 101, the only place it means anything', () => {
    expect(parse(['HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n'])).toEqual([
      ['informational', 101, 'Switching Protocols', ['Upgrade', 'websocket']],
    ]);
  });

  it('reports interim responses, then the final one', () => {
    expect(parse(['HTTP/1.1 100 Continue\r\n\r\n', 'HTTP/1.1 103 Early Hints\r\nLink: </a.css>; rel=preload\r\n\r\n', HELLO])).toEqual([
      ['informational', 100, 'Continue', []],
      ['informational', 103, 'Early Hints', ['Link', '</a.css>; rel=preload']],
      ['head', 200, 'OK', ['Content-Type', 'text/plain', 'Content-Length', '5', 'Date', 'Sat, 21 Nov 2026 10:00:00 GMT'], false],
      ['body', 'hello'],
      ['end', null],
    ]);
  });
});

describe('ResponseParser: the body', () => {
  it('decodes a chunked body and its trailers', () => {
    const response = 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTrailer: X-Sum\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\nX-Sum: 42\r\n\r\n';
    expect(parse([response])).toEqual([
      ['head', 200, 'OK', ['Trailer', 'X-Sum'], false],
      ['body', 'hello world'],
      ['end', ['X-Sum', '42']],
    ]);
  });

  it('ends a response without length or chunking when the writer ends', () => {
    const calls = parse(['HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nuntil', ' the end'], { finish: true });
    expect(calls).toEqual([['head', 200, 'OK', ['Content-Type', 'text/plain'], false], ['body', 'until the end'], ['end', null]]);
  });

  it('expects no body for HEAD, 204 and 304', () => {
    expect(parse(['HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n'], { isHead: true, finish: true })).toEqual([
      ['head', 200, 'OK', ['Content-Length', '5'], false],
      ['end', null],
    ]);
    expect(parse(['HTTP/1.1 204 No Content\r\n\r\n'], { finish: true }).at(-1)).toEqual(['end', null]);
    expect(parse(['HTTP/1.1 304 Not Modified\r\nETag: "x"\r\n\r\n'], { finish: true }).at(-1)).toEqual(['end', null]);
  });

  it('refuses a writer that ends before the Content-Length is complete, or inside a chunked body', () => {
    expect(() => parse(['HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort'], { finish: true })).toThrow(ResponseParseError);
    expect(() => parse(['HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhel'], { finish: true })).toThrow(ResponseParseError);
    expect(() => parse(['HTTP/1.1 200 OK\r\nContent-Length: 1'], { finish: true })).toThrow(ResponseParseError);
  });

  it('refuses a malformed chunked body', () => {
    expect(() => parse(['HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n'])).toThrow(ResponseParseError);
  });
});

describe('ResponseParser: however the bytes are split', () => {
  const responses = [
    HELLO,
    'HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nX-A: b\r\n\r\n3\r\nabc\r\n2;ext=1\r\nde\r\n0\r\nT: v\r\n\r\n',
    'HTTP/1.1 404 Not Found\r\nContent-Length: 9\r\nConnection: close\r\n\r\nnot found',
  ];

  it.each(responses.map((r, k) => [k, r]))('gives the same calls for response %i in any split', (_k, response) => {
    const whole = parse([response as string]);
    let seed = 7;
    const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    for (let round = 0; round < 200; round++) {
      const parts: string[] = [];
      let rest = response as string;
      while (rest.length > 0) {
        const n = 1 + Math.floor(random() * Math.min(rest.length, 24));
        parts.push(rest.slice(0, n));
        rest = rest.slice(n);
      }
      expect(parse(parts)).toEqual(whole);
    }
    expect(parse([...(response as string)])).toEqual(whole);
  });

  it('never fails with anything but a ResponseParseError on mangled input', () => {
    let seed = 11;
    const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    const alphabet = ['\r', '\n', ':', ' ', '0', '9', 'a', 'HTTP/1.1 ', ';', '\x00', 'chunked', 'Content-Length: '];
    for (let round = 0; round < 2000; round++) {
      const base = responses[round % responses.length]!;
      let text = '';
      for (const ch of base) text += random() < 0.05 ? alphabet[Math.floor(random() * alphabet.length)] : ch;
      try {
        parse([text], { finish: random() < 0.5 });
      } catch (error) {
        expect(error).toBeInstanceOf(ResponseParseError);
      }
    }
  });
});

describe("ResponseParser: Node's own head", () => {
  type Prepared = Parameters<NonNullable<ResponseSink['prepared']>>[0];
  /** A sink whose `nodeHead()` is `head`: what `res._header` says. */
  function trusted(head: string) {
    const calls: (['prepared', Prepared] | ['head', number] | ['body', string] | ['whole', string] | ['end', string[] | null])[] = [];
    const sink: ResponseSink = {
      informational: () => {},
      head: (code) => void calls.push(['head', code]),
      prepared: (prepared) => void calls.push(['prepared', prepared]),
      nodeHead: () => head,
      body: (chunk) => void calls.push(['body', chunk.toString()]) ?? true,
      whole: (chunk) => void calls.push(['whole', chunk.toString()]),
      end: (trailers) => void calls.push(['end', trailers]),
    };
    return { calls, sink };
  }
  const NODE_HEAD = 'HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 5\r\nDate: Sat, 21 Nov 2026 10:00:00 GMT\r\nConnection: keep-alive\r\nKeep-Alive: timeout=5\r\n\r\n';

  it('passes it on as text without its framing lines, and a whole text body in one call', () => {
    const { calls, sink } = trusted(NODE_HEAD);
    new ResponseParser(sink, false).write(`${NODE_HEAD}héllo`.slice(0, NODE_HEAD.length + 5), 'utf8');
    expect(calls[0]).toEqual([
      'prepared',
      {
        code: 200,
        statusLine: 'HTTP/1.1 200 OK\r\n',
        lines: 'Content-Type: text/plain\r\nContent-Length: 5\r\nDate: Sat, 21 Nov 2026 10:00:00 GMT\r\n',
        contentLength: 5,
        close: false,
        hasDate: true,
        hasServer: false,
      },
    ]);
    // 'héllo' is 6 bytes in UTF-8: not the whole body of 5, so it goes as body bytes.
    expect(calls.slice(1)).toEqual([['body', 'héllo'], ['end', null]]);
  });

  it('a text body of exactly Content-Length bytes is the whole response', () => {
    const { calls, sink } = trusted(NODE_HEAD);
    new ResponseParser(sink, false).write(`${NODE_HEAD}hello`);
    expect(calls.map((c) => c[0])).toEqual(['prepared', 'whole']);
    expect(calls[1]).toEqual(['whole', 'hello']);
  });

  it('cuts framing lines out wherever they are, and keeps the rest in order', () => {
    const head = 'HTTP/1.1 201 Created\r\nConnection: close\r\nX-A: 1\r\nTransfer-Encoding: chunked\r\nServer: mine\r\nKeep-Alive: timeout=5\r\nX-B: 2\r\n\r\n';
    const { calls, sink } = trusted(head);
    new ResponseParser(sink, false).write(Buffer.from(head, 'latin1'));
    expect(calls[0]).toEqual([
      'prepared',
      { code: 201, statusLine: 'HTTP/1.1 201 Created\r\n', lines: 'X-A: 1\r\nServer: mine\r\nX-B: 2\r\n', contentLength: -1, close: true, hasDate: false, hasServer: true },
    ]);
  });

  it('drops the Content-Length of a 204 and a 205 from the lines, keeps a 304\'s', () => {
    for (const [code, kept] of [[204, false], [205, false], [304, true]] as const) {
      const head = `HTTP/1.1 ${code} X\r\nContent-Length: 3\r\n\r\n`;
      const { calls, sink } = trusted(head);
      new ResponseParser(sink, false).write(head);
      expect((calls[0]![1] as Prepared).lines).toBe(kept ? 'Content-Length: 3\r\n' : '');
      expect((calls[0]![1] as Prepared).contentLength).toBe(3);
    }
  });

  it('heads read one after another each give their own facts, the same head read again the same ones', () => {
    const chunkedHead = 'HTTP/1.1 200 OK\r\nX-A: 1\r\nTransfer-Encoding: chunked\r\n\r\n';
    const closeHead = 'HTTP/1.1 404 Not Found\r\nContent-Length: 2\r\nConnection: close\r\n\r\n';
    for (const [head, isHead, expected] of [
      [NODE_HEAD, false, ['prepared', 'whole']],
      [NODE_HEAD, false, ['prepared', 'whole']],
      // The same head for a HEAD request: no body follows it.
      [NODE_HEAD, true, ['prepared', 'end']],
      [chunkedHead, false, ['prepared', 'body', 'end']],
      [closeHead, false, ['prepared', 'whole']],
      [NODE_HEAD, false, ['prepared', 'whole']],
    ] as const) {
      const { calls, sink } = trusted(head);
      const parser = new ResponseParser(sink, isHead);
      const body = head === chunkedHead ? '5\r\nhello\r\n0\r\n\r\n' : head === closeHead ? 'no' : isHead ? '' : 'hello';
      parser.write(head + body);
      expect(calls.map((c) => c[0])).toEqual(expected);
      const prepared = calls[0]![1] as Prepared;
      expect(prepared.code).toBe(head === closeHead ? 404 : 200);
      expect(prepared.close).toBe(head === closeHead);
      expect(prepared.contentLength).toBe(head === chunkedHead ? -1 : head === closeHead ? 2 : 5);
      expect(prepared.lines).toBe(head === chunkedHead ? 'X-A: 1\r\n' : head === closeHead ? 'Content-Length: 2\r\n' : 'Content-Type: text/plain\r\nContent-Length: 5\r\nDate: Sat, 21 Nov 2026 10:00:00 GMT\r\n');
    }
  });

  it("a head Node is not sending (nodeHead null) is checked field by field, even when it equals one read before", () => {
    const first = trusted(NODE_HEAD);
    new ResponseParser(first.sink, false).write(`${NODE_HEAD}hello`);
    expect(first.calls[0]![0]).toBe('prepared');
    const raw = trusted(null as unknown as string);
    new ResponseParser(raw.sink, false).write(`${NODE_HEAD}hello`);
    expect(raw.calls.map((c) => c[0])).toEqual(['head', 'body', 'end']);
  });

  it('a head that is not the one Node made is split into fields for the server to check', () => {
    const { calls, sink } = trusted(NODE_HEAD);
    new ResponseParser(sink, false).write('HTTP/1.1 200 OK\r\nX-Raw: 1\r\nContent-Length: 0\r\n\r\n');
    expect(calls[0]).toEqual(['head', 200]);
  });
});

describe("ResponseParser: a chunked body of Node's own head", () => {
  const HEAD = 'HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nDate: Sat, 21 Nov 2026 10:00:00 GMT\r\nConnection: keep-alive\r\nTransfer-Encoding: chunked\r\n\r\n';
  const CRLF = Buffer.from('\r\n');

  /** A sink that trusts HEAD and collects the body as bytes. */
  function collect() {
    const out = { body: [] as Buffer[], trailers: undefined as string[] | null | undefined, ends: 0 };
    const sink: ResponseSink = {
      informational: () => {},
      head: () => {
        throw new Error('not trusted');
      },
      prepared: () => {},
      nodeHead: () => HEAD,
      body: (chunk) => void out.body.push(Buffer.from(chunk)) ?? true,
      end: (trailers) => {
        out.ends++;
        out.trailers = trailers;
      },
    };
    return { out, parser: new ResponseParser(sink, false) };
  }

  /** What Node's write_ writes for one chunk: size, CRLF, data, CRLF. */
  const nodeChunk = (data: Buffer): (Buffer | string)[] => [data.length.toString(16), CRLF, data, CRLF];

  it('takes size, CRLF, data and CRLF write by write, the first size behind the head, and the last chunk with trailers', () => {
    const { out, parser } = collect();
    const a = Buffer.from('first chunk ');
    const b = Buffer.from('second');
    const writes = [...nodeChunk(a), ...nodeChunk(b)];
    parser.write(HEAD + (writes[0] as string), 'latin1');
    for (const w of writes.slice(1)) parser.write(w);
    parser.write('0\r\nX-Sum: 42\r\n\r\n', 'latin1');
    expect(Buffer.concat(out.body).toString()).toBe('first chunk second');
    expect(out.trailers).toEqual(['X-Sum', '42']);
    expect(out.ends).toBe(1);
  });

  it('the last chunk without trailers ends the body at once; as data of a chunk, the same text is data', () => {
    const { out, parser } = collect();
    parser.write(HEAD + '5', 'latin1');
    parser.write(CRLF);
    parser.write('0\r\n\r\n', 'latin1');
    parser.write(CRLF);
    expect(out.ends).toBe(0);
    parser.write('0\r\n\r\n', 'latin1');
    expect(Buffer.concat(out.body).toString('latin1')).toBe('0\r\n\r\n');
    expect(out.ends).toBe(1);
    expect(out.trailers).toBeNull();
    expect(parser.done).toBe(true);
  });

  it('reads a size in either case; a size that is not hex goes to the decoder, which refuses it', () => {
    const { out, parser } = collect();
    const data = Buffer.alloc(0x1f, 0x61);
    parser.write(HEAD + '1F', 'latin1');
    for (const w of [CRLF, data, CRLF]) parser.write(w);
    parser.write('0\r\n\r\n', 'latin1');
    expect(Buffer.concat(out.body)).toEqual(data);
    expect(out.ends).toBe(1);
    const bad = collect();
    bad.parser.write(HEAD, 'latin1');
    // \x10 | 0x20 would be '0': a character is a digit only as itself.
    expect(() => {
      bad.parser.write('\x10', 'latin1');
      bad.parser.write(CRLF);
    }).toThrow(ResponseParseError);
  });

  it('a text chunk in another encoding is sent as the bytes it stands for', () => {
    const { out, parser } = collect();
    parser.write(HEAD + '2', 'latin1');
    parser.write(CRLF);
    parser.write('é!', 'latin1');
    parser.write('\r\n', 'latin1');
    parser.write('0\r\n\r\n', 'latin1');
    expect(Buffer.concat(out.body)).toEqual(Buffer.from([0xe9, 0x21]));
  });

  it('any other write, at any point of a chunk, hands the rest to the decoder with the same body', () => {
    fc.assert(
      fc.property(
        fc.array(fc.uint8Array({ minLength: 1, maxLength: 40 }), { minLength: 1, maxLength: 5 }),
        fc.nat(200),
        fc.integer({ min: 1, max: 7 }),
        (chunks, at, size) => {
          // Node's writes up to write number `at`, then the rest of the same bytes as raw writes of `size` bytes.
          const writes = chunks.flatMap((c) => nodeChunk(Buffer.from(c)));
          writes.push('0\r\n\r\n');
          const cut = Math.min(at, writes.length);
          const rest = Buffer.concat(writes.slice(cut).map((w) => (typeof w === 'string' ? Buffer.from(w, 'latin1') : w)));
          const { out, parser } = collect();
          parser.write(HEAD);
          for (const w of writes.slice(0, cut)) parser.write(w, typeof w === 'string' ? 'latin1' : undefined);
          for (let i = 0; i < rest.length; i += size) parser.write(rest.subarray(i, i + size));
          expect(Buffer.concat(out.body)).toEqual(Buffer.concat(chunks.map((c) => Buffer.from(c))));
          expect(out.ends).toBe(1);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('data not followed by CRLF is refused, as the decoder refuses it', () => {
    const { parser } = collect();
    parser.write(HEAD);
    parser.write('2', 'latin1');
    parser.write(CRLF);
    parser.write(Buffer.from('ab'));
    expect(() => parser.write(Buffer.from('xy'))).toThrow(ResponseParseError);
  });
});
