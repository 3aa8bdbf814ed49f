/** Bodies read within bounds, and servers' words shown safely. */
import { describe, expect, it } from 'vitest';
import { BodyTooLarge, capped, readCapped, readPrefix, safeServerText } from '../../src/http/bounded-body.js';

async function* endless(chunk: Uint8Array, seen: { chunks: number }): AsyncIterable<Uint8Array> {
  for (;;) {
    seen.chunks += 1;
    yield chunk;
  }
}

describe('bounded bodies', () => {
  it('cuts an endless body off at its bound, having read no more than one chunk past it', async () => {
    const seen = { chunks: 0 };
    await expect(readCapped(endless(new Uint8Array(1024), seen), 10 * 1024, 'the manifest')).rejects.toThrow(BodyTooLarge);
    expect(seen.chunks).toBe(11);
  });

  it('passes a body within its bound unchanged', async () => {
    const parts: Uint8Array[] = [];
    for await (const part of capped([new Uint8Array([1, 2]), new Uint8Array([3])], 3, 'x')) parts.push(part);
    expect(Buffer.concat(parts)).toEqual(Buffer.from([1, 2, 3]));
  });

  it('reads only the first kilobytes of an error answer that never ends', async () => {
    let pulled = 0;
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        pulled += 1;
        controller.enqueue(new TextEncoder().encode('x'.repeat(1000)));
      },
    });
    const text = await readPrefix(new Response(body), 8192);
    expect(text).toHaveLength(8192);
    expect(pulled).toBeLessThan(20);
  });
});

describe('safeServerText', () => {
  it('strips escape sequences and control characters, masks secrets and bounds the length', () => {
    const key = 'sk-live-0123456789abcdef';
    const said = `\u001b[2J\u001b[31mdenied\u001b[0m for ${key}\r\n\u0007\u001b]0;owned\u0007 next\u202eevil ${'x'.repeat(1000)}`;
    const shown = safeServerText(said, [key]);
    expect(shown).not.toMatch(/[\u0000-\u001f\u007f-\u009f\u202e]/);
    expect(shown).not.toContain(key);
    expect(shown).toContain('denied for [redacted]');
    expect(shown).not.toContain('owned');
    expect(shown.length).toBeLessThanOrEqual(301);
  });
});
