/**
 * Bodies from servers are read within bounds, and their words are shown safely. An image body past
 * the most bytes its image can take, a manifest past a megabyte, an error body past a few kilobytes:
 * each is cut off where the bound is reached, never read whole into memory or onto disk. Text a
 * server sent reaches a terminal only without control characters or escape sequences, shortened, and
 * with every configured secret masked, even one the server echoed back.
 */

/** The most a manifest or a lease may weigh. */
export const MAX_MANIFEST_BYTES = 1024 * 1024;
/** How much of an error answer is read: enough for any message, not a page. */
export const MAX_ERROR_BODY_BYTES = 8 * 1024;
/** How much of a server's message is shown. */
export const MAX_SHOWN_CHARS = 300;

/** Thrown when a body goes past its bound. */
export class BodyTooLarge extends Error {
  constructor(
    readonly what: string,
    readonly limit: number,
  ) {
    super(`${what} is larger than ${limit} bytes; it was cut off there`);
    this.name = 'BodyTooLarge';
  }
}

/** The chunks of `source`, throwing {@link BodyTooLarge} (which ends the source) as soon as they pass `limit` bytes. */
export async function* capped(source: AsyncIterable<Uint8Array> | Iterable<Uint8Array>, limit: number, what: string): AsyncIterable<Uint8Array> {
  let total = 0;
  for await (const chunk of source) {
    total += chunk.length;
    if (total > limit) throw new BodyTooLarge(what, limit);
    yield chunk;
  }
}

/** The whole body as bytes, throwing {@link BodyTooLarge} past `limit`. */
export async function readCapped(source: AsyncIterable<Uint8Array>, limit: number, what: string): Promise<Buffer> {
  const parts: Uint8Array[] = [];
  for await (const chunk of capped(source, limit, what)) parts.push(chunk);
  return Buffer.concat(parts);
}

/** The first `limit` bytes of a response's body as text; the rest is not read. */
export async function readPrefix(response: Response, limit = MAX_ERROR_BODY_BYTES): Promise<string> {
  const reader = response.body?.getReader();
  if (!reader) return '';
  const parts: Uint8Array[] = [];
  let total = 0;
  try {
    while (total < limit) {
      const { done, value } = await reader.read();
      if (done) break;
      parts.push(value);
      total += value.length;
    }
  } catch {
    // a body that breaks off still says what it said so far
  } finally {
    await reader.cancel().catch(() => undefined);
  }
  return Buffer.concat(parts).subarray(0, limit).toString('utf8');
}

// CSI and OSC sequences first (so their parameters go with them), then any other control character
// eslint-disable-next-line no-control-regex
const ESCAPES = /\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(\x07|\x1b\\)?|\x1b[@-_]?|[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2066-\u2069]/g;

/**
 * A server's text made safe to print: escape sequences and control characters removed (line breaks
 * and tabs become spaces), each secret replaced by `[redacted]`, and at most `max` characters.
 */
export function safeServerText(text: string, secrets: readonly (string | undefined)[], max = MAX_SHOWN_CHARS): string {
  let clean = text.replace(ESCAPES, '').replace(/[\t\n]+/g, ' ');
  for (const secret of secrets) if (secret && secret.length >= 4) clean = clean.split(secret).join('[redacted]');
  clean = clean.trim();
  return clean.length > max ? `${clean.slice(0, max)}…` : clean;
}
