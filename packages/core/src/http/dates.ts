/**
 * HTTP-dates (RFC 9110 §5.6.7) and the month names they share with log timestamps.
 */

/** English month abbreviations, as HTTP-dates and Apache's log time spell them. */
export const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const IMF_FIXDATE = /^(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun), (\d{2}) ([A-Z][a-z]{2}) (\d{4}) (\d{2}):(\d{2}):(\d{2}) GMT$/;
const RFC850_DATE = /^(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday), (\d{2})-([A-Z][a-z]{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2}) GMT$/;
const ASCTIME_DATE = /^(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun) ([A-Z][a-z]{2}) ([ \d]\d) (\d{2}):(\d{2}):(\d{2}) (\d{4})$/;

/**
 * An HTTP-date (RFC 9110 §5.6.7: IMF-fixdate, or the obsolete RFC 850 and asctime forms) as
 * milliseconds since the epoch; null for anything else. Stricter than `Date.parse`, which takes
 * `"1"` for a date in 2001.
 *
 * @example
 * parseHttpDate('Sun, 06 Nov 1994 08:49:37 GMT'); // 784111777000
 */
export function parseHttpDate(value: string): number | null {
  let fields: [day: string, month: string, year: number, hh: string, mm: string, ss: string];
  let m: RegExpExecArray | null;
  if ((m = IMF_FIXDATE.exec(value)) !== null) {
    fields = [m[1]!, m[2]!, Number(m[3]), m[4]!, m[5]!, m[6]!];
  } else if ((m = RFC850_DATE.exec(value)) !== null) {
    // §5.6.7: a two-digit year more than 50 years in the future means the past century.
    const yy = Number(m[3]);
    const year = 2000 + yy > new Date().getUTCFullYear() + 50 ? 1900 + yy : 2000 + yy;
    fields = [m[1]!, m[2]!, year, m[4]!, m[5]!, m[6]!];
  } else if ((m = ASCTIME_DATE.exec(value)) !== null) {
    fields = [m[2]!.trim(), m[1]!, Number(m[6]), m[3]!, m[4]!, m[5]!];
  } else {
    return null;
  }
  const [day, month, year, hh, mm, ss] = fields;
  const monthIndex = MONTHS.indexOf(month);
  const d = Number(day);
  const h = Number(hh);
  const min = Number(mm);
  const s = Number(ss);
  // 60 seconds: a leap second, counted as the 59th.
  if (monthIndex === -1 || d < 1 || h > 23 || min > 59 || s > 60) return null;
  const ms = Date.UTC(year, monthIndex, d, h, min, Math.min(s, 59));
  // Date.UTC rolls 31 Feb over into March; such a date is not valid.
  return new Date(ms).getUTCDate() === d ? ms : null;
}
