// RFC 4180 quoting for the CSV this project writes (comma-delimited, the Secoda columns CSV):
// the one rule every CSV writer here follows, on strings (transforms/to-csv.ts) and on bytes
// (the direct information_schema path, transforms/info-schema/direct-csv.ts, which copies
// fields from the input without decoding them). https://www.rfc-editor.org/rfc/rfc4180#section-2

const QUOTE = 0x22
const COMMA = 0x2c
const LF = 0x0a
const CR = 0x0d

/**
 * Whether a character (a UTF-16 code unit, or a byte of UTF-8: the four are ASCII, and UTF-8
 * never uses ASCII bytes inside a multi-byte character) forces its field into quotes: the
 * delimiter (comma), a quote, CR or LF. Fields without one are written as they are.
 */
export function forcesQuotes(c: number): boolean {
  return c === COMMA || c === QUOTE || c === LF || c === CR
}

/**
 * One field: unchanged when no character of it {@link forcesQuotes}, else in double quotes
 * with inner quotes doubled.
 */
export function quoteCsvField(v: string): string {
  for (let i = 0; i < v.length; i++) {
    if (forcesQuotes(v.charCodeAt(i))) return '"' + v.replaceAll('"', '""') + '"'
  }
  return v
}

/**
 * The quoted form of the bytes src[a, e) written into dst at `at`: a quote, the bytes with
 * each quote doubled, a quote. Returns the offset after it; dst needs room for 2·(e − a) + 2
 * bytes. (For a field known to need quotes; {@link quoteCsvField} decides on strings.)
 */
export function writeQuotedBytes(src: Uint8Array, a: number, e: number, dst: Uint8Array, at: number): number {
  let u = at
  dst[u++] = QUOTE
  for (let i = a; i < e; i++) {
    const c = src[i]!
    if (c === QUOTE) dst[u++] = QUOTE
    dst[u++] = c
  }
  dst[u++] = QUOTE
  return u
}
