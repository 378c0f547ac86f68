/**
 * Range requests (RFC 9110 §14): the byte range a `Range` field asks for.
 */

/** An inclusive byte range within a file. */
export interface ByteRange {
  start: number;
  /** The last byte, inclusive, as in Content-Range. */
  end: number;
}

const RANGE_SPEC = /^(?:(\d+)-(\d*)|-(\d+))$/;

/**
 * The one range a `Range` field asks for in a file of `size` bytes.
 *
 * @returns the range (clamped to the file); `'unsatisfiable'` (→ 416) when it starts at or past
 * the end, or is an empty suffix; null when the field is to be ignored and the whole file sent —
 * not `bytes`, malformed, or several ranges (which we choose not to serve as multipart).
 * @example
 * parseRange('bytes=0-99', 1000); // { start: 0, end: 99 }
 * parseRange('bytes=-100', 1000); // { start: 900, end: 999 }
 * parseRange('bytes=1000-', 1000); // 'unsatisfiable'
 */
export function parseRange(field: string, size: number): ByteRange | 'unsatisfiable' | null {
  // ranges-specifier = range-unit "=" range-set; the unit is case-insensitive (§14.1).
  const eq = field.indexOf('=');
  if (eq === -1 || field.slice(0, eq).toLowerCase() !== 'bytes') return null;
  const specs = field
    .slice(eq + 1)
    .split(',')
    .map((spec) => spec.trim())
    .filter((spec) => spec !== '');
  if (specs.length !== 1) return null;
  const m = RANGE_SPEC.exec(specs[0]!);
  if (m === null) return null;
  if (m[3] !== undefined) {
    // suffix-range: the last n bytes (§14.1.2); zero of them, or of an empty file, is unsatisfiable.
    const n = Number(m[3]);
    if (n === 0 || size === 0) return 'unsatisfiable';
    return { start: Math.max(0, size - n), end: size - 1 };
  }
  const first = Number(m[1]);
  const last = m[2] === '' ? Infinity : Number(m[2]);
  // §14.1.1: last-pos below first-pos makes the range-spec invalid, and the field with it.
  if (last < first) return null;
  if (first >= size) return 'unsatisfiable';
  return { start: first, end: Math.min(last, size - 1) };
}
