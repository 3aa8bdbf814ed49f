/**
 * Reads Venice's JSON answer `{ "id", "images": ["<base64>", …], "timing", "request" }` from a byte
 * stream without holding it whole. Each base64 string in the top-level "images" array is decoded as
 * it arrives and handed to `onImage` as a stream of bytes; the rest of the document (small) is kept,
 * with each image string emptied, and parsed at the end. Peak memory stays near one chunk per image
 * instead of the whole body, its text and its decoded images at once.
 */

export class Base64StreamError extends Error {}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;

export async function readImagesJson<T>(
  body: AsyncIterable<Uint8Array>,
  onImage: (bytes: AsyncIterable<Uint8Array>) => Promise<T>,
): Promise<{ document: Record<string, unknown>; images: T[] }> {
  const source = body[Symbol.asyncIterator]();
  let chunk: Uint8Array = new Uint8Array(0);
  let at = 0;
  /** The next byte, or -1 at the end of the body. */
  const next = async (): Promise<number> => {
    while (at >= chunk.length) {
      const step = await source.next();
      if (step.done) return -1;
      chunk = step.value;
      at = 0;
    }
    return chunk[at++]!;
  };

  const rest: number[] = [];
  const images: T[] = [];
  let depth = 0;
  let lastKey = '';
  let inImages = false;
  let pendingKey: number[] | undefined;

  for (let c = await next(); c !== -1; c = await next()) {
    if (c === QUOTE) {
      if (inImages && depth === 2) {
        images.push(await onImage(imageBytes()));
        rest.push(QUOTE, QUOTE);
        continue;
      }
      // an ordinary string: copy it, remembering it in case it is a key
      const text: number[] = [];
      for (let s = await next(); ; s = await next()) {
        if (s === -1) throw new SyntaxError('the JSON answer ended inside a string');
        if (s === BACKSLASH) {
          text.push(s, await next());
          continue;
        }
        if (s === QUOTE) break;
        text.push(s);
      }
      rest.push(QUOTE, ...text, QUOTE);
      pendingKey = text;
      continue;
    }
    rest.push(c);
    if (c === 0x3a /* : */ && pendingKey && depth === 1) lastKey = Buffer.from(pendingKey).toString();
    if (c !== 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09 && c !== 0x3a) pendingKey = undefined;
    if (c === 0x7b /* { */ || c === 0x5b /* [ */) {
      depth += 1;
      if (c === 0x5b && depth === 2 && lastKey === 'images') inImages = true;
    } else if (c === 0x7d /* } */ || c === 0x5d /* ] */) {
      if (depth === 2 && inImages) inImages = false;
      depth -= 1;
    }
  }
  const document = JSON.parse(Buffer.from(rest).toString('utf8')) as Record<string, unknown>;
  return { document, images };

  /** The decoded bytes of the base64 string whose opening quote was just read, a chunk at a time. */
  async function* imageBytes(): AsyncGenerator<Uint8Array> {
    let carry = ''; // base64 characters not yet decodable (fewer than 4)
    let total = 0;
    let padded = false;
    let escaped = false; // the previous chunk ended in the backslash of "\\/"
    for (;;) {
      while (at >= chunk.length) {
        const step = await source.next();
        if (step.done) throw new Base64StreamError('the JSON answer ended inside an image');
        chunk = step.value;
        at = 0;
      }
      const end = chunk.indexOf(QUOTE, at);
      const stop = end === -1 ? chunk.length : end;
      // JSON may escape "/" as "\/"; base64 holds no other backslash
      let text = Buffer.from(chunk.buffer, chunk.byteOffset + at, stop - at).toString('latin1');
      if (escaped) {
        if (!text.startsWith('/') && text.length > 0) throw new Base64StreamError('an image in the JSON answer is not valid base64');
        escaped = text.length === 0;
      }
      if (text.includes('\\')) {
        text = text.replaceAll('\\/', '/');
        if (text.endsWith('\\') && end === -1) {
          text = text.slice(0, -1);
          escaped = true;
        }
        if (text.includes('\\')) throw new Base64StreamError('an image in the JSON answer is not valid base64');
      }
      if (NOT_BASE64.test(text) || (padded && text.length > 0 && !/^=*$/.test(text))) {
        throw new Base64StreamError('an image in the JSON answer is not valid base64');
      }
      if (text.includes('=')) {
        padded = true;
        if (!/^[^=]*={1,2}$/.test(text)) throw new Base64StreamError('an image in the JSON answer is not valid base64');
      }
      at = stop + (end === -1 ? 0 : 1);
      total += text.length;
      const all = carry + text;
      const usable = end === -1 ? all.length - (all.length % 4) : all.length;
      if (end !== -1 && usable % 4 !== 0) throw new Base64StreamError('an image in the JSON answer is not valid base64 (truncated)');
      carry = all.slice(usable);
      if (usable > 0) yield Buffer.from(all.slice(0, usable), 'base64');
      if (end !== -1) break;
    }
    if (total === 0) throw new Base64StreamError('an image in the JSON answer is empty');
  }
}

const NOT_BASE64 = /[^A-Za-z0-9+/=]/;
