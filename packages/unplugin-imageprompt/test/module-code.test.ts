/** The module a prompt import becomes is made from values by a serialiser: no value can become code. */
import { describe, expect, it } from 'vitest';
import type { ImageResult } from 'imageprompt';
import { moduleCode, urlModuleCode } from '../src/core/module-code.js';

const HOSTILE = `"; globalThis.__pwned = 1; "\u2028</script><script>globalThis.__pwned = 1</script>`;

function result(overrides: Record<string, unknown>): ImageResult {
  return {
    file: '/project/src/hero.imageprompt.json',
    key: 'ab'.repeat(32),
    alt: HOSTILE,
    seed: 7,
    status: 'cached',
    images: [{ path: '/cache/blobs/x.webp', width: 256, height: 256, format: 'webp', digest: 'ab'.repeat(32) }],
    ...overrides,
  } as ImageResult;
}

async function evaluate(code: string): Promise<Record<string, unknown>> {
  return (await import(`data:text/javascript;base64,${Buffer.from(code).toString('base64')}`)) as Record<string, unknown>;
}

describe('moduleCode', () => {
  it('keeps every value a value, whatever it holds, in both export shapes', async () => {
    const hostile = result({
      // values that slipped past every check still cannot become code
      seed: '1, globalThis.__pwned = 1, 1',
      images: [{ path: '/x', width: '1 + (globalThis.__pwned = 1)', height: 256, format: 'webp")+(globalThis.__pwned=1)+("', digest: null, meta: { blurDataURL: HOSTILE, thumbhash: HOSTILE, color: HOSTILE, aspectRatio: 1 } }],
    });
    for (const shape of ['image-object', 'image-import'] as const) {
      const code = moduleCode(hostile, shape, [JSON.stringify('/assets/hero.webp')]);
      expect(code).not.toContain('</script>');
      const module = await evaluate(code);
      expect((globalThis as { __pwned?: number }).__pwned).toBeUndefined();
      expect(module.seed).toBe('1, globalThis.__pwned = 1, 1');
      expect((module.variants as { width: unknown; color: unknown }[])[0]).toMatchObject({ width: '1 + (globalThis.__pwned = 1)', color: HOSTILE });
    }
  });

  it('exports what the image is', async () => {
    const module = await evaluate(moduleCode(result({ alt: 'A fox' }), 'image-object', [JSON.stringify('/assets/hero.webp')]));
    expect(module.default).toMatchObject({ src: '/assets/hero.webp', width: 256, height: 256, format: 'webp', alt: 'A fox', seed: 7 });
  });

  it('exports the URL alone for ?imageprompt&url', async () => {
    const module = await evaluate(urlModuleCode(JSON.stringify('/assets/hero.webp')));
    expect(Object.keys(module)).toEqual(['default']);
    expect(module.default).toBe('/assets/hero.webp');
  });
});
