/** Manifests are data from outside the process: every field is checked before any is used. */
import { describe, expect, it } from 'vitest';
import { checkManifest } from '../../src/cache/manifest-schema.js';
import { requestKey } from '../../src/index.js';

const request = { model: 'z-image-turbo', prompt: 'a fox', format: 'webp', width: 256, height: 256, variants: 1, seed: 7, safe_mode: true, hide_watermark: false, embed_exif_metadata: false, enable_web_search: false, enhance_prompt: false };
const KEY = requestKey(request as never);
const DIGEST = 'ab'.repeat(32);

const valid = () => ({
  version: 1,
  key: KEY,
  provider: 'venice',
  request: { ...request },
  seed: 7,
  seedSource: 'file',
  response: { id: 'gen-1', cfRay: null, timing: { total: 1200 } },
  flags: { blurred: false, contentViolation: false },
  createdAt: '2026-11-30T10:00:00.000Z',
  durationMs: 1200,
  outputs: [
    {
      digest: DIGEST,
      format: 'webp',
      width: 256,
      height: 256,
      bytes: 4096,
      file: `blobs/${DIGEST}.webp`,
      meta: { blurDataURL: 'data:image/webp;base64,UklGRiIAAABXRUJQ', thumbhash: 'YJqGPQw7sFlslqhFafSE+Q6oJ1h2iHB2Rw==', color: '#336699', aspectRatio: 1 },
    },
  ],
});

type Poison = (m: ReturnType<typeof valid>) => void;
const output = (m: ReturnType<typeof valid>) => m.outputs[0]! as Record<string, unknown>;

describe('checkManifest', () => {
  it('passes a manifest as imageprompt writes it', () => {
    expect(checkManifest(valid(), KEY)).toHaveProperty('manifest');
  });

  const poisons: [string, Poison, RegExp][] = [
    ['code in the seed', (m) => ((m as Record<string, unknown>).seed = '1; globalThis.pwned = 1'), /field "seed"/],
    ['a seed outside Venice\'s range', (m) => ((m.seed = 10 ** 12), (m.request.seed = 10 ** 12)), /field "(request\.)?seed"/],
    ['code in a width', (m) => (output(m).width = '256, globalThis.pwned = 1'), /field "outputs\.0\.width"/],
    ['a negative height', (m) => (output(m).height = -1), /field "outputs\.0\.height"/],
    ['an unknown format', (m) => (output(m).format = 'svg'), /field "outputs\.0\.format"/],
    ['a path in the digest', (m) => (output(m).digest = '../../../../etc/passwd'), /field "outputs\.0\.digest"/],
    ['a path in the file', (m) => (output(m).file = '../../outside.webp'), /field "outputs\.0\.file"/],
    ['a file that is not its digest', (m) => (output(m).file = `blobs/${'cd'.repeat(32)}.webp`), /named by its digest/],
    ['a fractional byte count', (m) => (output(m).bytes = 10.5), /field "outputs\.0\.bytes"/],
    ['more bytes than its pixels can take', (m) => (output(m).bytes = 10 ** 9), /more than an image of its size can take/],
    ['a size the request did not ask for', (m) => ((output(m).width = 50_000), (output(m).height = 50_000)), /field "outputs\.0\.(width|height)"/],
    ['a size other than the request\'s', (m) => ((output(m).width = 128), (output(m).height = 128)), /128×128 where 256×256 was asked for/],
    ['outputs that are not the variants asked for', (m) => m.outputs.push({ ...m.outputs[0]! }), /holds 2 images where the request asks for 1/],
    ['no outputs', (m) => (m.outputs = []), /field "outputs"/],
    ['a colour that is CSS', (m) => ((output(m).meta as Record<string, unknown>).color = 'red;background:url(//x)'), /field "outputs\.0\.meta\.color"/],
    ['a blur URL that is not a data URL', (m) => ((output(m).meta as Record<string, unknown>).blurDataURL = 'javascript:alert(1)'), /field "outputs\.0\.meta\.blurDataURL"/],
    ['a blur URL far too long', (m) => ((output(m).meta as Record<string, unknown>).blurDataURL = `data:image/webp;base64,${'A'.repeat(100_000)}`), /field "outputs\.0\.meta\.blurDataURL"/],
    ['a ThumbHash that is not base64', (m) => ((output(m).meta as Record<string, unknown>).thumbhash = '"};alert(1);//'), /field "outputs\.0\.meta\.thumbhash"/],
    ['an unknown field', (m) => ((m as Record<string, unknown>).extra = 'x'), /field "the manifest"|unrecognized/i],
    ['an unknown metadata field', (m) => ((output(m).meta as Record<string, unknown>).onload = 'x'), /field "outputs\.0\.meta"/],
    ['a provider that is not a name', (m) => (m.provider = '<script>'), /field "provider"/],
    ['another version', (m) => ((m as Record<string, unknown>).version = 2), /field "version"/],
  ];
  for (const [what, poison, problem] of poisons) {
    it(`refuses ${what}, naming the field`, () => {
      const manifest = valid();
      poison(manifest);
      const checked = checkManifest(manifest, KEY);
      expect(checked).toHaveProperty('problem');
      expect((checked as { problem: string }).problem).toMatch(problem);
    });
  }

  it('refuses a manifest filed under another key', () => {
    expect(checkManifest(valid(), 'cd'.repeat(32))).toEqual({ problem: `it names key ${KEY.slice(0, 12)}` });
  });

  it('accepts the sizes an aspect-ratio model returns near its tier, and refuses others', () => {
    const ratio = (width: number, height: number) => {
      const m = valid();
      const { width: _w, height: _h, ...rest } = m.request;
      m.request = { ...rest, aspect_ratio: '16:9', resolution: '1K' } as typeof m.request;
      m.key = requestKey(m.request as never);
      Object.assign(output(m), { width, height, bytes: 4096 });
      return checkManifest(m, m.key);
    };
    expect(ratio(1360, 768)).toHaveProperty('manifest');
    expect(ratio(1344, 768)).toHaveProperty('manifest');
    expect(ratio(768, 1360)).toHaveProperty('problem');
    expect(ratio(4096, 2304)).toHaveProperty('problem');
  });
});
