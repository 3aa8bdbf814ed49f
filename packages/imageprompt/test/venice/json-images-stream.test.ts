import { describe, expect, it } from 'vitest';
import { Base64StreamError, readImagesJson } from '../../src/venice/json-images-stream.js';

/** Splits text into chunks of `size` bytes, to exercise every boundary. */
async function* chunked(text: string, size: number): AsyncGenerator<Uint8Array> {
  const bytes = Buffer.from(text);
  for (let i = 0; i < bytes.length; i += size) yield bytes.subarray(i, i + size);
}

async function collect(bytes: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const part of bytes) parts.push(Buffer.from(part));
  return Buffer.concat(parts);
}

const images = [Buffer.from('first image bytes \u0000\u00ff'), Buffer.from('second, a little longer image: 0123456789'.repeat(50))];
const answer = JSON.stringify({ id: 'generate-image-1', images: images.map((i) => i.toString('base64')), timing: { total: 1 }, request: { data: { prompt: 'has "images" and [brackets]' } } });

describe('readImagesJson', () => {
  it.each([1, 3, 7, 64, 4096])('decodes every image and keeps the rest of the document, in chunks of %i bytes', async (size) => {
    const { document, images: decoded } = await readImagesJson(chunked(answer, size), collect);
    expect(decoded).toEqual(images);
    expect(document).toEqual({ id: 'generate-image-1', images: ['', ''], timing: { total: 1 }, request: { data: { prompt: 'has "images" and [brackets]' } } });
  });

  it('accepts escaped slashes, which JSON allows', async () => {
    const bytes = Buffer.from([0xff, 0xff, 0xff, 0xfe]);
    const text = JSON.stringify({ images: [bytes.toString('base64')] }).replace(/\//g, '\\/');
    for (const size of [1, 2, 5]) expect((await readImagesJson(chunked(text, size), collect)).images[0]).toEqual(bytes);
  });

  it.each([
    ['truncated', JSON.stringify({ images: ['QUJD'.repeat(10).slice(0, 39)] })],
    ['not base64', JSON.stringify({ images: ['QUJD!!QUJD'] })],
    ['padding inside', JSON.stringify({ images: ['QQ==QUJD'] })],
    ['empty', JSON.stringify({ images: [''] })],
  ])('rejects an image that is %s', async (_name, text) => {
    await expect(readImagesJson(chunked(text, 3), collect)).rejects.toBeInstanceOf(Base64StreamError);
  });

  it('rejects a body that ends inside an image', async () => {
    await expect(readImagesJson(chunked('{"images":["QUJD', 4), collect)).rejects.toBeInstanceOf(Base64StreamError);
  });
});
