/** The OpenAI-compatible route's preparation: its own key space, Venice's rules, providers by name. */
import { describe, expect, it } from 'vitest';
import { ModelCatalog, parsePromptFile, prepareRequest } from '../../src/index.js';
import { prepareOpenAIRequest, type OpenAIPromptFile } from '../../src/prompt/openai-route.js';

const catalog = ModelCatalog.bundled();
const prepare = (fields: Record<string, unknown>, providers: string[] = []) =>
  prepareOpenAIRequest(parsePromptFile(JSON.stringify({ api: 'openai', ...fields }), 'p.json') as OpenAIPromptFile, {}, catalog, 'p.json', providers);

describe('prepareOpenAIRequest', () => {
  it("makes Venice's defaults explicit in what is sent, and a native-shaped view for sizes and prices", () => {
    const { send, request } = prepare({ model: 'z-image-turbo', prompt: 'a harbour', size: '1024x1536' });
    expect(send).toMatchObject({ route: 'images/generations', provider: 'venice', body: { n: 1, output_format: 'png', moderation: 'auto', size: '1024x1536' } });
    expect(request).toMatchObject({ model: 'z-image-turbo', width: 1024, height: 1536, format: 'png', variants: 1 });
  });

  it('keys apart from the native route, and per provider', () => {
    const native = prepareRequest(parsePromptFile(JSON.stringify({ model: 'z-image-turbo', prompt: 'a harbour', width: 1024, height: 1024, format: 'png' }), 'n.json') as never, {}, catalog, 'n.json');
    const venice = prepare({ model: 'z-image-turbo', prompt: 'a harbour', size: '1024x1024' });
    const acme = prepare({ provider: 'acme', model: 'z-image-turbo', prompt: 'a harbour', size: '1024x1024' }, ['acme']);
    expect(new Set([native.key, venice.key, acme.key]).size).toBe(3);
  });

  it('names an unknown provider with a suggestion, and warns that Venice swaps an unknown model', () => {
    expect(() => prepare({ provider: 'acme-images', model: 'x', prompt: 'p' }, ['acme-image'])).toThrow(/"acme-images" is not a provider[\s\S]*did you mean "acme-image"/);
    expect(prepare({ model: 'z-image-turb', prompt: 'p' }).warnings.join('\n')).toMatch(/quietly uses its default \(z-image-turbo\)[\s\S]*did you mean "z-image-turbo"/);
  });

  it('refuses the native fields it has no use for, saying what to write instead', () => {
    expect(() => parsePromptFile(JSON.stringify({ api: 'openai', prompt: 'p', width: 512 }), 'p.json')).toThrow(/this route is sized by "size"/);
    expect(() => parsePromptFile(JSON.stringify({ api: 'openai', prompt: 'p', safe_mode: false }), 'p.json')).toThrow(/"moderation": "low"/);
  });
});
