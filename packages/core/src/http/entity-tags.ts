/**
 * Entity-tags (RFC 9110 §8.8.3) and the list fields that carry them (`If-None-Match`, `If-Match`,
 * `If-Range`): parsed, and compared as §8.8.3.2 says.
 */

export interface EntityTag {
  weak: boolean;
  /** The quoted part, quotes included. */
  opaque: string;
}

/**
 * If-None-Match's test (RFC 9110 §13.1.2): `*`, or any listed entity-tag equal to `etag` under
 * weak comparison (`W/` ignored on both sides). A malformed field matches nothing.
 *
 * @example
 * matchesAnyTag('"x", W/"abc"', '"abc"'); // true
 */
export function matchesAnyTag(field: string, etag: string): boolean {
  const tags = parseEntityTags(field);
  if (tags === '*') return true;
  if (tags === null) return false;
  const opaque = etag.startsWith('W/') ? etag.slice(2) : etag;
  return tags.some((tag) => tag.opaque === opaque);
}

/**
 * `If-None-Match = "*" / #entity-tag`, `entity-tag = [ "W/" ] DQUOTE *etagc DQUOTE` (RFC 9110
 * §8.8.3). Parsed rather than split on commas: a comma is a valid etagc.
 */
export function parseEntityTags(field: string): EntityTag[] | '*' | null {
  if (field.trim() === '*') return '*';
  const tags: EntityTag[] = [];
  let i = 0;
  for (;;) {
    // §5.6.1: empty list elements and OWS around commas are allowed.
    while (i < field.length && (field[i] === ' ' || field[i] === '\t' || field[i] === ',')) i++;
    if (i === field.length) break;
    const weak = field.startsWith('W/', i);
    if (weak) i += 2;
    if (field[i] !== '"') return null;
    const close = field.indexOf('"', i + 1);
    if (close === -1) return null;
    tags.push({ weak, opaque: field.slice(i, close + 1) });
    i = close + 1;
    while (i < field.length && (field[i] === ' ' || field[i] === '\t')) i++;
    if (i < field.length && field[i] !== ',') return null;
  }
  return tags.length > 0 ? tags : null;
}
