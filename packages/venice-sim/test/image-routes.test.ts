/**
 * The simulator's answers on Venice's image-taking routes (reference §6), over real HTTP: upscale,
 * background removal, edit and multi-edit, in JSON and multipart, with Venice's sizes, prices,
 * refusals, and the faults the control endpoint scripts.
 */
import sharp from 'sharp';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { VIOLATION_TRIGGER, startVeniceSim, type VeniceSim } from '../src/index.js';

let sim: VeniceSim;
const KEY = 'image-routes-key';
let photo: Buffer;

beforeAll(async () => {
  sim = await startVeniceSim({ keys: [KEY], rpm: 0 });
  // 320×240: above upscale's 65,536-px minimum, a plain corner for background removal
  photo = await sharp({ create: { width: 320, height: 240, channels: 3, background: '#e8e4dc' } })
    .composite([{ input: await sharp({ create: { width: 120, height: 120, channels: 3, background: '#2a5' } }).png().toBuffer(), left: 100, top: 60 }])
    .jpeg()
    .toBuffer();
});
afterAll(() => sim.close());
beforeEach(() => sim.script({ clearFaults: true, clearRequests: true, resetLimits: true, latencyMs: 0, balanceUsd: 1000 }));

const post = (route: string, body: unknown) =>
  fetch(`${sim.url}/${route}`, { method: 'POST', headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
const multipart = (route: string, form: FormData) => fetch(`${sim.url}/${route}`, { method: 'POST', headers: { authorization: `Bearer ${KEY}` }, body: form });
const b64 = (bytes: Buffer) => bytes.toString('base64');
const sizeOf = async (response: Response) => {
  const meta = await sharp(Buffer.from(await response.arrayBuffer())).metadata();
  return { width: meta.width, height: meta.height, format: meta.format, alpha: meta.hasAlpha };
};
const spent = async (action: () => Promise<Response>) => {
  const before = sim.behaviour.balanceUsd;
  const response = await action();
  return { response, usd: Number((before - sim.behaviour.balanceUsd).toFixed(4)) };
};

describe('POST /image/upscale', () => {
  it('answers a PNG 2× or 4× the size, at the catalog’s 2× and 4× prices, from JSON or multipart', async () => {
    const two = await spent(() => post('image/upscale', { image: b64(photo) }));
    expect(two.response.status).toBe(200);
    expect(two.response.headers.get('content-type')).toBe('image/png');
    expect(await sizeOf(two.response)).toMatchObject({ width: 640, height: 480, format: 'png' });
    expect(two.usd).toBe(0.02);
    const form = new FormData();
    form.append('image', new Blob([photo], { type: 'image/jpeg' }), 'photo.jpg');
    form.append('scale', '4');
    const four = await spent(() => multipart('image/upscale', form));
    expect(await sizeOf(four.response)).toMatchObject({ width: 1280, height: 960 });
    expect(four.usd).toBe(0.08);
  });

  it('lowers 4× to 2× where 4× would pass 16,777,216 px, and charges 2×', async () => {
    const big = await sharp({ create: { width: 2048, height: 1536, channels: 3, background: '#888' } }).png().toBuffer();
    const lowered = await spent(() => post('image/upscale', { image: b64(big), scale: 4 }));
    expect(await sizeOf(lowered.response)).toMatchObject({ width: 4096, height: 3072 });
    expect(lowered.usd).toBe(0.02);
  });

  it.each([
    [{ scale: 1 }, 400, /scale must be 2 or 4/],
    [{ enhance: true }, 400, /Unrecognized key\(s\) in object: 'enhance'/],
    [{ image: 'not base64!' }, 400, /not valid base64/],
  ])('refuses %j', async (change, status, message) => {
    const response = await post('image/upscale', { image: b64(photo), ...change });
    expect(response.status).toBe(status);
    expect(JSON.stringify(await response.json())).toMatch(message);
    expect(sim.imageRequests().every((r) => r.servedImages.length === 0)).toBe(true);
  });

  it('refuses an input under 65,536 px, and another content type with 415', async () => {
    const small = await sharp({ create: { width: 200, height: 200, channels: 3, background: '#888' } }).png().toBuffer();
    const response = await post('image/upscale', { image: b64(small) });
    expect(response.status).toBe(400);
    expect(((await response.json()) as { error: string }).error).toMatch(/too small to upscale: 200x200 is under 65536 pixels/);
    const text = await fetch(`${sim.url}/image/upscale`, { method: 'POST', headers: { authorization: `Bearer ${KEY}`, 'content-type': 'text/plain' }, body: 'x' });
    expect(text.status).toBe(415);
  });
});

describe('POST /image/background-remove', () => {
  it('answers a PNG of the same size with alpha, made transparent where the background was, at $0.03', async () => {
    const removed = await spent(() => post('image/background-remove', { image: b64(photo) }));
    expect(removed.response.status).toBe(200);
    const bytes = Buffer.from(await removed.response.arrayBuffer());
    expect(await sharp(bytes).metadata()).toMatchObject({ width: 320, height: 240, format: 'png', hasAlpha: true });
    const { data } = await sharp(bytes).raw().toBuffer({ resolveWithObject: true });
    expect(data[3]).toBe(0); // the corner is background
    expect(data[(120 * 320 + 160) * 4 + 3]).toBe(255); // the square in the middle is kept
    expect(removed.usd).toBe(0.03);
  });

  it('takes exactly one of image and image_url', async () => {
    expect((await post('image/background-remove', {})).status).toBe(400);
    expect((await post('image/background-remove', { image: b64(photo), image_url: 'https://example.com/x.png' })).status).toBe(400);
  });
});

describe('POST /image/edit and /image/multi-edit', () => {
  it('edits one image with firered-image-edit by default: PNG at 1K in the image’s proportions, at the model’s price', async () => {
    const edited = await spent(() => post('image/edit', { image: b64(photo), prompt: 'turn the sky into a warm sunset' }));
    expect(edited.response.status).toBe(200);
    expect(edited.response.headers.get('x-venice-model-id')).toBe('firered-image-edit');
    const size = await sizeOf(edited.response);
    expect(size.format).toBe('png');
    expect(size.width! / size.height!).toBeCloseTo(4 / 3, 1);
    expect(edited.usd).toBe(0.04);
  });

  it('takes an aspect ratio, a resolution and an output format the model allows, and refuses others', async () => {
    const wide = await post('image/edit', { image: b64(photo), prompt: 'p', model: 'qwen-image-3-edit', aspect_ratio: '16:9', resolution: '2K', output_format: 'webp' });
    expect(wide.status).toBe(200);
    const size = await sizeOf(wide);
    expect([size.format, Math.round((size.width! / size.height!) * 9)]).toEqual(['webp', 16]);
    expect((await post('image/edit', { image: b64(photo), prompt: 'p', model: 'qwen-image-3-edit', resolution: '4K' })).status).toBe(400);
    expect((await post('image/edit', { image: b64(photo), prompt: 'p', model: 'z-image-turbo' })).status).toBe(404);
    expect((await post('image/edit', { image: b64(photo), prompt: 'x'.repeat(1501) })).status).toBe(400);
  });

  it('answers a content violation with 422 and charges nothing', async () => {
    const flagged = await spent(() => post('image/edit', { image: b64(photo), prompt: `make it ${VIOLATION_TRIGGER}` }));
    expect(flagged.response.status).toBe(422);
    expect(flagged.usd).toBe(0);
  });

  it('multi-edit takes images as repeated file parts and modelId only, up to the model’s limit, charging extra inputs', async () => {
    const form = new FormData();
    for (let i = 0; i < 3; i++) form.append('images', new Blob([photo], { type: 'image/jpeg' }), `p${i}.jpg`);
    form.append('prompt', 'put the three together');
    form.append('modelId', 'flux-2-max-edit');
    const edited = await spent(() => multipart('image/multi-edit', form));
    expect(edited.response.status).toBe(200);
    // 0.12, plus two inputs beyond the one included at 0.0345
    expect(edited.usd).toBe(0.189);
    const tooMany = await post('image/multi-edit', { images: Array.from({ length: 4 }, () => b64(photo)), prompt: 'p' });
    expect(tooMany.status).toBe(400);
    expect(((await tooMany.json()) as { error: string }).error).toMatch(/1 to 3 images for firered-image-edit/);
    expect((await post('image/multi-edit', { images: [b64(photo)], prompt: 'p', model: 'firered-image-edit' })).status).toBe(400);
  });
});

describe('faults on the image-taking routes', () => {
  it('acts out scripted faults: a 503, a truncated body, a dropped connection', async () => {
    sim.script({ failNext: { count: 1, status: 503 } });
    expect((await post('image/upscale', { image: b64(photo) })).status).toBe(503);
    sim.script({ corruptNext: { count: 1, kind: 'truncated-base64' } });
    const truncated = Buffer.from(await (await post('image/upscale', { image: b64(photo) })).arrayBuffer());
    await expect(sharp(truncated).raw().toBuffer()).rejects.toThrow();
    sim.script({ dropNext: { count: 1 } });
    await expect(post('image/background-remove', { image: b64(photo) }).then((r) => r.arrayBuffer())).rejects.toThrow();
    expect(sim.imageRequests().map((r) => r.path.split('/').pop())).toEqual(['upscale', 'upscale', 'background-remove']);
  });
});
