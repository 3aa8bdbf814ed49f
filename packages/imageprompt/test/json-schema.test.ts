import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { promptFileJsonSchema } from '../src/json-schema.js';

describe('JSON Schema for editors', () => {
  it('is generated from the zod schema: strict, with Venice’s fields, ranges and enums', () => {
    const schema = promptFileJsonSchema() as { additionalProperties: boolean; required: string[]; properties: Record<string, { enum?: string[]; maximum?: number }> };
    expect(schema.additionalProperties).toBe(false);
    expect(schema.required).toEqual(['prompt']);
    expect(schema.properties.format!.enum).toEqual(['webp', 'png', 'jpeg']);
    expect(schema.properties.width!.maximum).toBe(1280);
    expect(Object.keys(schema.properties)).toEqual(expect.arrayContaining(['negative_prompt', 'style_preset', 'alt', '$schema']));
    expect(Object.keys(schema.properties)).not.toContain('return_binary');
  });

  it('is shipped in the package by the build', async () => {
    const shipped = JSON.parse(await readFile(new URL('../schema/imageprompt.schema.json', import.meta.url), 'utf8')) as unknown;
    expect(shipped).toEqual(promptFileJsonSchema());
  });
});
