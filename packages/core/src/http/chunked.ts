/**
 * Incremental decoder of the chunked transfer coding (RFC 9112 §7.1), with extensions and trailers.
 *
 *   chunked-body   = *chunk last-chunk trailer-section CRLF
 *   chunk          = chunk-size [ chunk-ext ] CRLF chunk-data CRLF
 *   chunk-size     = 1*HEXDIG
 *   last-chunk     = 1*("0") [ chunk-ext ] CRLF
 *   chunk-ext      = *( BWS ";" BWS chunk-ext-name [ BWS "=" BWS chunk-ext-val ] )
 *   chunk-ext-val  = token / quoted-string
 *
 * Pure: bytes in, body data out through a sink, errors thrown as {@link HttpError}. The decoder
 * never consumes a byte past the end of the chunked body, so what follows stays for the next
 * request. Chunk data is handed out as views into the input buffer, without copying.
 */

import { HttpError } from '../errors.js';
import { CR, HEX, HTAB, LF, SEMICOLON, SP, TCHAR } from './chars.js';
import { parseFieldLines } from './request-head.js';

export interface ChunkedLimits {
  /** Largest decoded body, in bytes; 0 = no limit (413 beyond). */
  maxBodySize: number;
  /** Most bytes of chunk extensions in one message (413 beyond; CVE-2024-22019). */
  maxChunkExtensions: number;
  /** Largest trailer section, in bytes (431 beyond). */
  maxTrailerSize: number;
  /** Most trailer fields (431 beyond). */
  maxTrailers: number;
}

/** Where decoded body bytes go. */
export interface ChunkSink {
  onBodyData(chunk: Buffer): void;
}

const enum State {
  SizeFirst,
  Size,
  SizeBWS,
  ExtBeforeName,
  ExtName,
  /** Whitespace after an extension name: "=" or ";" must follow, not the end of the line. */
  ExtNameBWS,
  ExtBeforeValue,
  ExtToken,
  ExtQuoted,
  ExtQuotedPair,
  /** Right after a closing quote. */
  ExtQuotedEnd,
  /** Whitespace after a value: only ";" may follow. */
  ExtValueBWS,
  LineLF,
  Data,
  DataCR,
  DataLF,
  TrailerLine,
  FinalLF,
  Done,
}

/** The largest chunk size we accept before overflow could bite: 2^48 bytes is beyond any limit. */
const MAX_CHUNK_SIZE = 2 ** 48;

/**
 * @example
 * const decoder = new ChunkedDecoder(limits);
 * const used = decoder.decode(buf, 0, buf.length, { onBodyData: (b) => parts.push(b) });
 * if (decoder.done) { … decoder.trailers … }
 */
export class ChunkedDecoder {
  #state = State.SizeFirst;
  #size = 0;
  #remaining = 0;
  #received = 0;
  #extensionBytes = 0;
  #trailerBytes = 0;
  #trailerText = '';
  readonly #limits: ChunkedLimits;
  /** Trailer fields as name, value pairs, once the body is done; `null` when there were none. */
  trailers: string[] | null = null;

  constructor(limits: ChunkedLimits) {
    this.#limits = limits;
  }

  /** True once the last chunk, the trailer section and the final CRLF were read. */
  get done(): boolean {
    return this.#state === State.Done;
  }

  /** Decoded body bytes so far. */
  get received(): number {
    return this.#received;
  }

  /**
   * Decode `buf[start..end)`. Body bytes go to `sink.onBodyData` as views.
   * @returns how many bytes were consumed; fewer than offered only once the body is done.
   */
  decode(buf: Buffer, start: number, end: number, sink: ChunkSink): number {
    let i = start;
    while (i < end) {
      const state = this.#state;
      if (state === State.Data) {
        const n = Math.min(this.#remaining, end - i);
        this.#remaining -= n;
        this.#received += n;
        sink.onBodyData(buf.subarray(i, i + n));
        i += n;
        if (this.#remaining === 0) this.#state = State.DataCR;
        continue;
      }
      if (state === State.Done) break;
      if (state === State.TrailerLine) {
        i = this.#trailerLine(buf, i, end);
        continue;
      }
      this.#step(buf[i]!);
      i++;
    }
    return i - start;
  }

  /** One byte of a chunk line or of the CRLFs around data. */
  #step(c: number): void {
    switch (this.#state) {
      case State.SizeFirst:
        if (c === LF) throw bareLF();
        if (HEX[c]! < 0) throw badChunk('chunk size is not a hexadecimal number');
        this.#size = HEX[c]!;
        this.#state = State.Size;
        return;
      case State.Size:
        if (HEX[c]! >= 0) {
          this.#size = this.#size * 16 + HEX[c]!;
          if (this.#size > MAX_CHUNK_SIZE) this.#tooLarge();
          return;
        }
        this.#sizeDone();
        if (c === CR) this.#state = State.LineLF;
        else if (c === SEMICOLON) this.#extension(State.ExtBeforeName);
        else if (c === SP || c === HTAB) this.#extension(State.SizeBWS);
        else if (c === LF) throw bareLF();
        else throw badChunk('invalid character after the chunk size');
        return;
      case State.SizeBWS:
        // BWS is only allowed here when a chunk extension follows.
        if (c === SEMICOLON) this.#extension(State.ExtBeforeName);
        else if (c === SP || c === HTAB) this.#extension(State.SizeBWS);
        else throw badChunk('whitespace after the chunk size without an extension');
        return;
      case State.ExtBeforeName:
        if (c === SP || c === HTAB) this.#extension(State.ExtBeforeName);
        else if (TCHAR[c] === 1) this.#extension(State.ExtName);
        else throw badChunk('malformed chunk extension');
        return;
      case State.ExtName:
        if (TCHAR[c] === 1) this.#extension(State.ExtName);
        else if (c === 0x3d /* = */) this.#extension(State.ExtBeforeValue);
        else this.#endOfPart(c, State.ExtNameBWS);
        return;
      case State.ExtNameBWS:
        if (c === SP || c === HTAB) this.#extension(State.ExtNameBWS);
        else if (c === 0x3d) this.#extension(State.ExtBeforeValue);
        else if (c === SEMICOLON) this.#extension(State.ExtBeforeName);
        else throw badChunk('malformed chunk extension');
        return;
      case State.ExtBeforeValue:
        if (c === SP || c === HTAB) this.#extension(State.ExtBeforeValue);
        else if (c === 0x22 /* " */) this.#extension(State.ExtQuoted);
        else if (TCHAR[c] === 1) this.#extension(State.ExtToken);
        else throw badChunk('malformed chunk extension value');
        return;
      case State.ExtToken:
        if (TCHAR[c] === 1) this.#extension(State.ExtToken);
        else this.#endOfPart(c, State.ExtValueBWS);
        return;
      case State.ExtQuoted:
        // qdtext = HTAB / SP / %x21 / %x23-5B / %x5D-7E / obs-text   (RFC 9110 §5.6.4)
        if (c === 0x22) this.#extension(State.ExtQuotedEnd);
        else if (c === 0x5c /* \ */) this.#extension(State.ExtQuotedPair);
        else if (c === HTAB || c === SP || c === 0x21 || (c >= 0x23 && c <= 0x7e) || c >= 0x80) {
          this.#extension(State.ExtQuoted);
        } else throw badChunk('invalid character in a quoted chunk extension value');
        return;
      case State.ExtQuotedPair:
        if (c === HTAB || (c >= 0x20 && c <= 0x7e) || c >= 0x80) this.#extension(State.ExtQuoted);
        else throw badChunk('invalid quoted-pair in a chunk extension');
        return;
      case State.ExtQuotedEnd:
        this.#endOfPart(c, State.ExtValueBWS);
        return;
      case State.ExtValueBWS:
        if (c === SP || c === HTAB) this.#extension(State.ExtValueBWS);
        else if (c === SEMICOLON) this.#extension(State.ExtBeforeName);
        else throw badChunk('malformed chunk extension');
        return;
      case State.LineLF:
        if (c !== LF) throw bareCR();
        if (this.#size === 0) {
          this.#state = State.TrailerLine;
        } else {
          this.#remaining = this.#size;
          this.#state = State.Data;
        }
        return;
      case State.DataCR:
        if (c !== CR) throw badChunk('chunk data is not followed by CRLF');
        this.#state = State.DataLF;
        return;
      case State.DataLF:
        if (c !== LF) throw badChunk('chunk data is not followed by CRLF');
        this.#state = State.SizeFirst;
        return;
      case State.FinalLF:
        if (c !== LF) throw bareCR();
        this.#state = State.Done;
        return;
      default:
        throw new Error(`unreachable chunked decoder state ${this.#state}`);
    }
  }

  /**
   * Right after an extension name or value: the end of the line, another extension, or
   * whitespace — which must then lead to more (BWS never ends a line, RFC 9112 §7.1.1).
   */
  #endOfPart(c: number, whitespaceState: State): void {
    if (c === CR) this.#state = State.LineLF;
    else if (c === SEMICOLON) this.#extension(State.ExtBeforeName);
    else if (c === SP || c === HTAB) this.#extension(whitespaceState);
    else if (c === LF) throw bareLF();
    else throw badChunk('malformed chunk extension');
  }

  #extension(next: State): void {
    if (++this.#extensionBytes > this.#limits.maxChunkExtensions) {
      throw new HttpError(
        413,
        'ROCKET_ERR_CHUNK_EXTENSION_TOO_LARGE',
        `chunk extensions longer than ${this.#limits.maxChunkExtensions} bytes`,
      );
    }
    this.#state = next;
  }

  #sizeDone(): void {
    const max = this.#limits.maxBodySize;
    if (max > 0 && this.#received + this.#size > max) this.#tooLarge();
  }

  #tooLarge(): never {
    if (this.#limits.maxBodySize > 0) {
      throw new HttpError(413, 'ROCKET_ERR_BODY_TOO_LARGE', `request body larger than ${this.#limits.maxBodySize} bytes`);
    }
    throw badChunk('chunk size too large');
  }

  /**
   * Collect one trailer line (they are rare and short, so a string per line is fine), or see the
   * empty line that ends the body.
   */
  #trailerLine(buf: Buffer, i: number, end: number): number {
    if (this.#trailerText.length === 0 && buf[i] === CR) {
      this.#state = State.FinalLF;
      return i + 1;
    }
    const lf = buf.indexOf(LF, i);
    const stop = lf === -1 || lf >= end ? end : lf + 1;
    this.#trailerBytes += stop - i;
    if (this.#trailerBytes > this.#limits.maxTrailerSize) {
      throw new HttpError(431, 'ROCKET_ERR_HEADER_TOO_LARGE', `trailer section larger than ${this.#limits.maxTrailerSize} bytes`);
    }
    this.#trailerText += buf.toString('latin1', i, stop);
    if (stop === lf + 1) {
      const line = this.#trailerText;
      this.#trailerText = '';
      if (line.length < 2 || line.charCodeAt(line.length - 2) !== CR) throw bareLF();
      const trailers = (this.trailers ??= []);
      try {
        parseFieldLines(Buffer.from(line, 'latin1'), 0, line.length, line, 0, trailers, this.#limits.maxTrailers);
      } catch (err) {
        if (err instanceof HttpError && err.status === 400) {
          throw new HttpError(400, 'ROCKET_ERR_BAD_TRAILER', `malformed trailer field: ${err.message}`);
        }
        throw err;
      }
    }
    return stop;
  }
}

function badChunk(message: string): HttpError {
  return new HttpError(400, 'ROCKET_ERR_BAD_CHUNK', message);
}

function bareCR(): HttpError {
  return new HttpError(400, 'ROCKET_ERR_BARE_CR', 'bare CR in a chunk line');
}

function bareLF(): HttpError {
  return new HttpError(400, 'ROCKET_ERR_BARE_LF', 'chunk line terminated by a bare LF');
}
