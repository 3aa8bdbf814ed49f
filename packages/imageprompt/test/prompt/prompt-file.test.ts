import { describe, expect, it } from 'vitest';
import { ImagePromptError, ModelCatalog, parseDefaults, parsePromptFile, prepareRequest } from '../../src/index.js';

const FILE = 'src/assets/hero.imageprompt.json';

function errorOf(fn: () => unknown): ImagePromptError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(ImagePromptError);
    return error as ImagePromptError;
  }
  throw new Error('expected an error');
}

const parse = (value: unknown) => parsePromptFile(typeof value === 'string' ? value : JSON.stringify(value), FILE);

describe('prompt-file schema', () => {
  it('accepts Venice field names and the plugin fields', () => {
    const file = parse({ $schema: './schema.json', model: 'venice-sd35', prompt: 'p', negative_prompt: 'n', width: 512, height: 512, cfg_scale: 7.5, steps: 25, seed: 0, style_preset: 'Anime', safe_mode: false, alt: 'A' });
    expect(file.negative_prompt).toBe('n');
    expect(file.alt).toBe('A');
  });

  it('reports invalid JSON with line and column', () => {
    const error = errorOf(() => parse('{\n  "model": "z-image-turbo",\n  "prompt": "x",\n}\n'));
    expect(error.code).toBe('INVALID_JSON');
    expect(error.message).toContain(`${FILE}:4:1`);
    expect(error.message).toMatch(/line 4, column 1/);
    expect(error.hint).toMatch(/trailing comma/);
  });

  it('suggests the snake_case name for a camelCase field', () => {
    const error = errorOf(() => parse({ model: 'z-image-turbo', prompt: 'p', negativePrompt: 'blurry' }));
    expect(error.field).toBe('negativePrompt');
    expect(error.message).toContain(FILE);
    expect(error.hint).toBe('did you mean "negative_prompt"? Venice\'s field names are snake_case');
  });

  it('calls a typo a typo, not a naming habit', () => {
    const error = errorOf(() => parse({ model: 'z-image-turbo', prompt: 'p', widht: 5 }));
    expect(error.hint).toBe('did you mean "width"?');
  });

  it('keeps each problem\'s hint beside its own field', () => {
    const error = errorOf(() => parse({ model: 'z-image-turbo', prompt: 'p', widht: 5, negativePrompt: 'x' }));
    expect(error.field).toBe('widht');
    expect(error.hint).toBe('did you mean "width"?');
    expect(error.message).toContain('also: field "negativePrompt": is not a field Venice accepts (did you mean "negative_prompt"? Venice\'s field names are snake_case)');
  });

  it('rejects the deprecated inpaint with a pointer to /image/edit, and return_binary', () => {
    expect(errorOf(() => parse({ prompt: 'p', inpaint: {} })).hint).toMatch(/\/image\/edit/);
    expect(errorOf(() => parse({ prompt: 'p', return_binary: true })).hint).toMatch(/chooses how images are transferred/);
  });

  it.each([
    ['width', { width: 0 }, /greater than 0/],
    ['width', { width: 1281 }, /at most 1280/],
    ['height', { height: 12.5 }, /whole number/],
    ['variants', { variants: 5 }, /at most 4/],
    ['seed', { seed: 1_000_000_000 }, /at most 999999999/],
    ['cfg_scale', { cfg_scale: 0 }, /greater than 0/],
    ['lora_strength', { lora_strength: 101 }, /at most 100/],
    ['format', { format: 'gif' }, /"gif" is not allowed/],
    ['quality', { quality: 'ultra' }, /not allowed/],
    ['safe_mode', { safe_mode: 'yes' }, /must be a boolean, found "yes"/],
    ['prompt', { prompt: '' }, /must not be empty/],
    ['prompt', { prompt: '  \n ' }, /must not be blank/],
    ['aspect_ratio', { aspect_ratio: 'wide' }, /must look like "16:9"/],
  ])('rejects a bad %s', (field, patch, message) => {
    const error = errorOf(() => parse({ model: 'z-image-turbo', prompt: 'p', ...patch }));
    expect(error.field).toBe(field);
    expect(error.message).toMatch(message);
  });

  it('requires a prompt and an object', () => {
    expect(errorOf(() => parse({ model: 'z-image-turbo' })).message).toMatch(/field "prompt": is required/);
    expect(errorOf(() => parse('[1,2]')).message).toMatch(/expected a JSON object, found an array/);
    expect(errorOf(() => parse('')).message).toMatch(/the file is empty/);
  });

  it('validates plugin defaults with the same rules', () => {
    expect(parseDefaults({ model: 'z-image-turbo', format: 'png' })).toEqual({ model: 'z-image-turbo', format: 'png' });
    expect(errorOf(() => parseDefaults({ formatt: 'png' })).hint).toContain('did you mean "format"?');
    expect(errorOf(() => parseDefaults({ prompt: 'x' })).field).toBe('prompt');
  });
});

describe('model-aware checks', () => {
  const catalog = ModelCatalog.bundled();
  const prepare = (value: object, defaults = {}) => prepareRequest(parse(value), defaults, catalog, FILE);

  it('rejects an unknown model with a suggestion', () => {
    const error = errorOf(() => prepare({ model: 'z-image-turb', prompt: 'p' }));
    expect(error.code).toBe('UNKNOWN_MODEL');
    expect(error.hint).toBe('did you mean "z-image-turbo"?');
  });

  it('needs a model from the file or the defaults', () => {
    expect(errorOf(() => prepare({ prompt: 'p' })).hint).toMatch(/defaults\.model/);
    expect(prepare({ prompt: 'p' }, { model: 'chroma' }).request.model).toBe('chroma');
  });

  it('applies the per-model prompt limit, resolution, quality, steps and width rules', () => {
    expect(errorOf(() => prepare({ model: 'venice-sd35', prompt: 'x'.repeat(1501) })).field).toBe('prompt');
    expect(errorOf(() => prepare({ model: 'gpt-image-2', prompt: 'p', resolution: '8K' })).hint).toBe('use one of 1K, 2K, 4K');
    expect(errorOf(() => prepare({ model: 'grok-imagine-image-2-0', prompt: 'p', quality: 'high' })).field).toBe('quality');
    expect(errorOf(() => prepare({ model: 'venice-sd35', prompt: 'p', steps: 31 })).field).toBe('steps');
    expect(errorOf(() => prepare({ model: 'qwen-image', prompt: 'p', width: 512 })).field).toBe('width');
    expect(errorOf(() => prepare({ model: 'flux-2-pro', prompt: 'p', aspect_ratio: '5:1' })).field).toBe('aspect_ratio');
  });

  it('warns about what Venice would silently ignore', () => {
    expect(prepare({ model: 'flux-2-pro', prompt: 'p', width: 512 }).warnings[0]).toMatch(/ignores width\/height/);
    expect(prepare({ model: 'z-image-turbo', prompt: 'p', aspect_ratio: '1:1' }).warnings[0]).toMatch(/ignores "aspect_ratio"/);
    expect(prepare({ model: 'z-image-turbo', prompt: 'p', negative_prompt: 'fog' }).warnings).toEqual([expect.stringMatching(/z-image-turbo ignores "negative_prompt"/)]);
    expect(prepare({ model: 'venice-sd35', prompt: 'p', negative_prompt: 'fog' }).warnings).toEqual([]);
    expect(prepare({ model: 'gpt-image-2', prompt: 'p', seed: 5 }).warnings).toEqual([expect.stringMatching(/gpt-image-2 ignores "seed"/)]);
    expect(prepare({ model: 'gpt-image-2', prompt: 'p' }).warnings).toEqual([]);
    expect(prepare({ model: 'flux-2-pro', prompt: 'p', enable_web_search: true }).warnings).toEqual([expect.stringMatching(/cannot search the web/)]);
    expect(prepare({ model: 'nano-banana-pro', prompt: 'p', enable_web_search: true }).warnings).toEqual([]);
    expect(prepare({ model: 'flux-2-pro', prompt: 'p', steps: 10 }).warnings).toEqual([expect.stringMatching(/flux-2-pro ignores "steps"/)]);
  });
});

describe('steps on images', () => {
  it('reads a chain: `"remove_background": true` is the step with no fields, the rest are objects', () => {
    const file = parse({ model: 'z-image-turbo', prompt: 'a mug', then: [{ remove_background: true }, { upscale: { scale: 4, creativity: 0.02 } }, { edit: { prompt: 'blue' } }] }) as { then: unknown[] };
    expect(file.then).toEqual([{ remove_background: {} }, { upscale: { scale: 4, creativity: 0.02 } }, { edit: { prompt: 'blue' } }]);
  });

  it('refuses a step object holding two steps, an empty chain, and a scale Venice does not offer, naming each field', () => {
    expect(errorOf(() => parse({ prompt: 'p', then: [{ upscale: {}, remove_background: true }] })).message).toMatch(/field "then\.0": must hold exactly one of "upscale", "remove_background", "edit"/);
    expect(errorOf(() => parse({ prompt: 'p', then: [] })).message).toMatch(/field "then": must list at least one step/);
    expect(errorOf(() => parse({ prompt: 'p', then: [{ upscale: { scale: 3 } }] })).message).toMatch(/field "then\.0\.upscale\.scale": must be 2 or 4/);
  });

  it('suggests the step or field meant, and says what to write for names Venice uses elsewhere', () => {
    expect(errorOf(() => parse({ prompt: 'p', then: [{ upscal: {} }] })).message).toMatch(/field "then\.0\.upscal": is not a field of this step\n {2}→ did you mean "upscale"\?/);
    expect(errorOf(() => parse({ prompt: 'p', then: [{ edit: { prompt: 'x', output_format: 'png' } }] })).hint).toMatch(/call it "format"/);
    expect(errorOf(() => parse({ api: 'upscale', image: './a.png', enhance: true })).hint).toMatch(/use "creativity"/);
    expect(errorOf(() => parse({ api: 'edit', image: './a.png', prompt: 'x', modelId: 'm' })).hint).toMatch(/call it "model"/);
  });

  it('reads each "api" that starts from committed images, and lists them for an unknown one', () => {
    expect(parse({ api: 'remove_background', image: './mug.png' })).toEqual({ api: 'remove_background', image: './mug.png' });
    expect(parse({ api: 'multi_edit', images: ['./a.png', './b.png'], prompt: 'x' })).toMatchObject({ images: ['./a.png', './b.png'] });
    expect(errorOf(() => parse({ api: 'edit', image: 'https://example.com/a.png', prompt: 'x' })).message).toMatch(/field "image": must be a path of a file in the project, not a URL/);
    expect(errorOf(() => parse({ api: 'inpaint', image: './a.png' })).hint).toMatch(/"upscale", "remove_background", "edit", "multi_edit"/);
    expect(errorOf(() => parse({ api: 'edit', image: './a.png' })).message).toMatch(/field "prompt": is required/);
  });
});
