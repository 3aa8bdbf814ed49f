/**
 * The dominant colour is counted from the decoded thumbnail, and must be what sharp's
 * `stats().dominant` says of the same pixels (entries made before keep their colour, and a build
 * agrees with one made before the change): checked against sharp itself on noise, gradients, one
 * colour, transparent pixels, the edges of every bin, and bins equally full in every order.
 */
import { randomBytes } from 'node:crypto';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { dominantColor } from '../../src/images/image-metadata.js';

const W = 40;
const H = 30;

/** RGBA pixels of W × H from a function of the pixel's position. */
function pixels(colour: (x: number, y: number) => [number, number, number, number]): Buffer {
  const data = Buffer.alloc(W * H * 4);
  for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) data.set(colour(x, y), (y * W + x) * 4);
  return data;
}

async function sharpsDominant(data: Buffer): Promise<string> {
  const { dominant } = await sharp(data, { raw: { width: W, height: H, channels: 4 } }).stats();
  return `#${[dominant.r, dominant.g, dominant.b].map((n) => n.toString(16).padStart(2, '0')).join('')}`;
}

/** Two colours, each on half the pixels: the bins tie. */
const halves = (a: [number, number, number], b: [number, number, number]) => pixels((x) => [...(x < W / 2 ? a : b), 255]);

const cases: [string, Buffer][] = [
  ['noise', randomBytes(W * H * 4)],
  ['opaque noise', pixels(() => [...randomBytes(3)] as [number, number, number]).map((v, i) => (i % 4 === 3 ? 255 : v)) as Buffer],
  ['a gradient', pixels((x, y) => [x * 6, y * 8, 255 - x * 3, 255])],
  ['one colour', pixels(() => [200, 30, 90, 255])],
  ['a colour on a transparent ground', pixels((x) => (x < 10 ? [10, 250, 10, 255] : [240, 240, 240, 0]))],
  ['a tie: red differs', halves([200, 50, 50], [20, 50, 50])],
  ['a tie: green differs', halves([20, 200, 50], [200, 20, 50])],
  ['a tie: blue differs', halves([50, 50, 250], [50, 50, 5])],
  ['a tie: all differ', halves([250, 10, 250], [10, 250, 10])],
  ['a three-way tie', pixels((x) => [...(x < 10 ? [0, 0, 255] : x < 20 ? [255, 0, 0] : x < 30 ? [0, 255, 0] : [100, 100, 100]), 255] as [number, number, number, number])],
  ['a bin edge (15 and 16)', pixels((x) => (x % 2 ? [15, 15, 15, 255] : [16, 16, 16, 255]))],
];

describe('dominantColor', () => {
  it.each(cases)('agrees with sharp’s stats() on %s', async (_what, data) => {
    expect(dominantColor(data)).toBe(await sharpsDominant(data));
  });

  it('agrees with sharp’s stats() at every bin’s edges, in each channel', async () => {
    for (const value of [0, 1, 15, 16, 17, 31, 32, 33, 127, 128, 129, 239, 240, 241, 254, 255]) {
      for (const channel of [0, 1, 2]) {
        const colour: [number, number, number, number] = [100, 100, 100, 255];
        colour[channel] = value;
        const data = pixels(() => colour);
        expect(dominantColor(data), `${value} in channel ${channel}`).toBe(await sharpsDominant(data));
      }
    }
  });

  it('agrees with sharp’s stats() on 50 random pictures of few colours (many ties)', async () => {
    for (let n = 0; n < 50; n++) {
      const palette = Array.from({ length: 2 + (n % 4) }, () => [...randomBytes(3)] as [number, number, number]);
      const data = pixels((x, y) => [...palette[(x * 7 + y * 3 + n) % palette.length]!, 255]);
      expect(dominantColor(data), `palette ${JSON.stringify(palette)}`).toBe(await sharpsDominant(data));
    }
  });
});
