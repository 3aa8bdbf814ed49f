import { describe, expect, it } from 'vitest';
import { ModelCatalog, canonicalJson, parsePromptFile, prepareRequest } from '../../src/index.js';

const catalog = ModelCatalog.bundled();
const keyOf = (text: string, defaults = {}) => prepareRequest(parsePromptFile(text, 'f.json'), defaults, catalog, 'f.json');

describe('canonical JSON', () => {
  it('sorts keys at every depth and drops whitespace', () => {
    expect(canonicalJson({ b: 1, a: { d: [1, { z: 1, y: 2 }], c: 'x' } })).toBe('{"a":{"c":"x","d":[1,{"y":2,"z":1}]},"b":1}');
  });
});

describe('request key', () => {
  const base = '{"model":"z-image-turbo","prompt":"a lighthouse","width":640,"height":480}';

  it('ignores key order, whitespace, alt and $schema', () => {
    const a = keyOf(base).key;
    expect(keyOf('{ "height": 480,\n  "width": 640, "prompt": "a lighthouse", "model": "z-image-turbo" }').key).toBe(a);
    expect(keyOf('{"model":"z-image-turbo","prompt":"a lighthouse","width":640,"height":480,"alt":"A lighthouse","$schema":"x"}').key).toBe(a);
  });

  it('hashes an omitted default and its explicit value alike', () => {
    const a = keyOf(base).key;
    expect(keyOf(base.replace('}', ',"format":"webp","variants":1,"safe_mode":true}')).key).toBe(a);
    expect(keyOf('{"model":"z-image-turbo","prompt":"a lighthouse"}').key).toBe(keyOf('{"model":"z-image-turbo","prompt":"a lighthouse","width":1024,"height":1024}').key);
    expect(keyOf('{"model":"gpt-image-2","prompt":"p"}').key).toBe(keyOf('{"model":"gpt-image-2","prompt":"p","aspect_ratio":"1:1","resolution":"1K","quality":"high"}').key);
  });

  it('treats project defaults like fields written in the file', () => {
    expect(keyOf('{"prompt":"a lighthouse","width":640,"height":480}', { model: 'z-image-turbo' }).key).toBe(keyOf(base).key);
    expect(keyOf(base, { format: 'png' }).key).not.toBe(keyOf(base).key);
  });

  it.each([
    ['prompt', '"prompt":"a lighthouse!"'],
    ['model', '"model":"chroma"'],
    ['width', '"width":641'],
    ['negative_prompt', '"negative_prompt":"fog"'],
    ['seed', '"seed":5'],
    ['format', '"format":"png"'],
    ['variants', '"variants":2'],
    ['style_preset', '"style_preset":"Anime"'],
    ['cfg_scale', '"cfg_scale":3'],
    ['safe_mode', '"safe_mode":false'],
    ['hide_watermark', '"hide_watermark":true'],
    ['enhance_prompt', '"enhance_prompt":true'],
  ])('changes when %s changes', (field, replacement) => {
    const [name] = replacement.split(':');
    const changed = base.includes(name!) ? base.replace(new RegExp(`${name}:[^,}]+`), replacement) : base.replace('}', `,${replacement}}`);
    expect(changed, field).not.toBe(base);
    expect(keyOf(changed).key).not.toBe(keyOf(base).key);
  });

  it('derives a stable seed when none is given, and records its source', () => {
    const a = keyOf(base);
    expect(a.seedSource).toBe('derived');
    expect(a.request.seed).toBe(keyOf(base).request.seed);
    expect(a.request.seed).toBeGreaterThanOrEqual(1);
    expect(a.request.seed).toBeLessThanOrEqual(999_999_999);
    expect(keyOf(base.replace('a lighthouse', 'a windmill')).request.seed).not.toBe(a.request.seed);
    const given = keyOf(base.replace('}', ',"seed":0}'));
    expect(given.seedSource).toBe('file');
    expect(given.request.seed).toBe(0);
  });

  it('is a pinned value for a pinned request (the recipe is versioned)', () => {
    // If this changes, every user's cache is invalidated: bump KEY_RECIPE_VERSION and say so.
    expect(keyOf(base).key).toBe('521707a1783d98d811cfc3f7b1d983b05ee8ed88be2fd785ac4c234e73f6ea57');
  });
});
