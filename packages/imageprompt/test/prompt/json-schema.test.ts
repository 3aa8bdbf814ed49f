import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { promptFileJsonSchema } from '../../src/prompt/json-schema.js';

describe('JSON Schema for editors', () => {
  it('is generated from the zod schema: strict, with Venice’s fields, ranges and enums', () => {
    type Shape = { additionalProperties: boolean; required: string[]; properties: Record<string, { enum?: string[]; maximum?: number; const?: string }> };
    const { anyOf } = promptFileJsonSchema() as { anyOf: [Shape, Shape] };
    const [schema, openai] = anyOf;
    expect(schema.additionalProperties).toBe(false);
    expect(schema.required).toEqual(['prompt']);
    expect(schema.properties.format!.enum).toEqual(['webp', 'png', 'jpeg']);
    expect(schema.properties.width!.maximum).toBe(1280);
    expect(Object.keys(schema.properties)).toEqual(expect.arrayContaining(['negative_prompt', 'style_preset', 'alt', '$schema']));
    expect(Object.keys(schema.properties)).not.toContain('return_binary');
    // the OpenAI-compatible route: its own fields, strict too
    expect(openai.additionalProperties).toBe(false);
    expect(openai.required.sort()).toEqual(['api', 'prompt']);
    expect(openai.properties.api!.const).toBe('openai');
    expect(openai.properties.size!.enum).toContain('1792x1024');
    expect(Object.keys(openai.properties)).not.toContain('safe_mode');
  });

  it('covers chains and the files that start from committed images, `"remove_background": true` included', () => {
    type Node = { properties: Record<string, Node & { const?: string; anyOf?: Node[] }>; items?: Node; required?: string[] };
    const { anyOf } = promptFileJsonSchema() as { anyOf: Node[] };
    const step = anyOf[0]!.properties.then!.items!;
    expect(step.properties.remove_background!.anyOf![0]).toEqual({ const: true });
    expect(step.properties.upscale!.anyOf![0]).toEqual({ const: true });
    expect(Object.keys(step.properties.edit!.properties)).toEqual(expect.arrayContaining(['prompt', 'model', 'aspect_ratio', 'format']));
    const apis = anyOf.slice(2).map((node) => [node.properties.api!.const, node.required]);
    expect(apis).toEqual([
      ['upscale', ['api', 'image']],
      ['remove_background', ['api', 'image']],
      ['edit', ['api', 'image', 'prompt']],
      ['multi_edit', ['api', 'images', 'prompt']],
    ]);
  });

  it('is shipped in the package by the build', async () => {
    const shipped = JSON.parse(await readFile(new URL('../../schema/imageprompt.schema.json', import.meta.url), 'utf8')) as unknown;
    expect(shipped).toEqual(promptFileJsonSchema());
  });
});
