/**
 * Writes the JSON Schema of prompt files, generated from the zod schema, for editors:
 * `"$schema": "./node_modules/imageprompt/schema/imageprompt.schema.json"`.
 * Run at build time (`npm run build`); the file ships in the package.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { openaiPromptSchema } from './openai-route.js';
import { promptFileSchema } from './prompt-schema.js';
import { sourceFileSchemas } from '../steps/step-schema.js';

export function promptFileJsonSchema(): Record<string, unknown> {
  const schema = z.toJSONSchema(z.union([promptFileSchema, openaiPromptSchema, ...Object.values(sourceFileSchemas)]), { target: 'draft-2020-12' }) as Record<string, unknown>;
  allowBareSteps(schema);
  return {
    ...schema,
    $id: 'https://unpkg.com/imageprompt/schema/imageprompt.schema.json',
    title: 'imageprompt prompt file',
    description: "A request to Venice's POST /image/generate under Venice's field names, or with \"api\": \"openai\" to the OpenAI-compatible POST /images/generations, or with \"api\": \"edit\", \"upscale\", \"remove_background\" or \"multi_edit\" a step on committed images; `then` chains steps after the image; plus the plugin's `alt`, `responsive` and `$schema`.",
  };
}

/**
 * `{ "remove_background": true }` and `{ "upscale": true }` are steps with no fields: the schema
 * library writes only the object form of a value it reads `true` into, so `true` is added beside it.
 */
function allowBareSteps(node: unknown): void {
  if (typeof node !== 'object' || node === null) return;
  const properties = (node as { properties?: Record<string, unknown> }).properties;
  if (properties && 'remove_background' in properties && 'upscale' in properties && 'edit' in properties) {
    for (const name of ['remove_background', 'upscale']) properties[name] = { anyOf: [{ const: true }, properties[name]] };
  }
  for (const value of Object.values(node)) allowBareSteps(value);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const dir = new URL('../../schema/', import.meta.url);
  mkdirSync(dir, { recursive: true });
  writeFileSync(new URL('imageprompt.schema.json', dir), `${JSON.stringify(promptFileJsonSchema(), null, 2)}\n`);
}
