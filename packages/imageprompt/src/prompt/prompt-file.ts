/**
 * Reading a prompt file: size guard, JSON with line and column on syntax errors, then the strict
 * schema, with every problem reported as file, field, what was wrong and what to do.
 */
import { readFileSync, statSync } from 'node:fs';
import type { z } from 'zod';
import { didYouMean, fold } from './did-you-mean.js';
import { ImagePromptError, type ErrorCode } from '../errors/errors.js';
import { seeDocs, type DocsPage } from '../errors/docs-pages.js';
import { OPENAI_KNOWN_FIELDS, OPENAI_REFUSED, openaiPromptSchema, type OpenAIPromptFile } from './openai-route.js';
import { KNOWN_FIELDS, REFUSED_FIELDS, defaultsSchema, promptFileSchema, type PromptDefaults, type PromptFile } from './prompt-schema.js';
import { SOURCE_APIS, STEP_REFUSED, sourceFileFields, sourceFileSchemas, stepFieldNames, type SourceApi, type SourcePromptFile } from '../steps/step-schema.js';

/** Prompt files are a few hundred bytes; anything this large is a mistake. */
export const MAX_PROMPT_FILE_BYTES = 256 * 1024;

export const PROMPT_FILE_SUFFIX = '.imageprompt.json';

/**
 * Reads a prompt file; errors name it as `name` (a path relative to the project, say). Reads are
 * synchronous: prompt files are tiny, and a build reads hundreds of them, where a thread-pool hop per
 * call costs more than the read.
 */
export async function readPromptFile(path: string, name: string = path): Promise<AnyPromptFile> {
  const file = name;
  let text: string;
  try {
    const size = statSync(path).size;
    if (size > MAX_PROMPT_FILE_BYTES) {
      throw new ImagePromptError({
        code: 'INVALID_PROMPT_FILE',
        file,
        message: `the file is ${size} bytes; prompt files are limited to ${MAX_PROMPT_FILE_BYTES} bytes`,
        hint: 'a prompt file holds one request (model, prompt, size …); move anything else out of it',
      });
    }
    text = readFileSync(path, 'utf8');
  } catch (error) {
    if (error instanceof ImagePromptError) throw error;
    throw new ImagePromptError({
      code: 'UNREADABLE_PROMPT_FILE',
      file,
      message: `cannot read the file (${(error as NodeJS.ErrnoException).code ?? String(error)})`,
      hint: 'check that the path exists and is readable',
      cause: error,
    });
  }
  return parsePromptFile(text, file);
}

/** A prompt file for any route: native (`/image/generate`), `"api": "openai"`, or a step on committed images. */
export type AnyPromptFile = PromptFile | OpenAIPromptFile | SourcePromptFile;

export function parsePromptFile(text: string, file: string): AnyPromptFile {
  const data = parseJsonText(text, file);
  if (typeof data !== 'object' || data === null || Array.isArray(data)) {
    throw new ImagePromptError({
      code: 'INVALID_PROMPT_FILE',
      file,
      message: `expected a JSON object, found ${Array.isArray(data) ? 'an array' : data === null ? 'null' : typeof data}`,
      hint: 'write the request as an object: { "model": "z-image-turbo", "prompt": "…" }',
    });
  }
  const { api, provider } = data as { api?: unknown; provider?: unknown };
  if (api === 'openai') {
    const openai = openaiPromptSchema.safeParse(data, { reportInput: true });
    if (!openai.success) throw schemaError(openai.error, file, 'prompt-files.md', 'INVALID_PROMPT_FILE', describeUnknownOpenAIField);
    return openai.data;
  }
  if (typeof api === 'string' && (SOURCE_APIS as string[]).includes(api)) {
    const step = sourceFileSchemas[api as SourceApi].safeParse(data, { reportInput: true });
    if (!step.success) throw schemaError(step.error, file, 'prompt-files.md', 'INVALID_PROMPT_FILE', (key, parent) => describeUnknownStepField(key, parent, sourceFileFields(api as SourceApi)));
    return step.data;
  }
  if (api !== undefined) {
    throw new ImagePromptError({ code: 'INVALID_PROMPT_FILE', file, field: 'api', message: `${describeValue(api)} is not allowed`, hint: `use "openai" for the OpenAI-compatible route, one of ${SOURCE_APIS.map((a) => `"${a}"`).join(', ')} to start from a committed image, or leave "api" out for Venice's native route` });
  }
  if (provider !== undefined) {
    throw new ImagePromptError({ code: 'INVALID_PROMPT_FILE', file, field: 'provider', message: 'needs "api": "openai"', hint: 'providers are OpenAI-compatible APIs: add "api": "openai" and use that route\'s fields' });
  }
  const result = promptFileSchema.safeParse(data, { reportInput: true });
  if (!result.success) throw schemaError(result.error, file, 'prompt-files.md');
  return result.data;
}

function describeUnknownOpenAIField(key: string, parent: string): { message: string; hint: string } {
  // inside `then`: the steps are the same on every route
  if (parent.startsWith('then')) return describeUnknownField(key, parent);
  const refused = OPENAI_REFUSED[key];
  if (refused) return { message: 'is not accepted on the OpenAI-compatible route', hint: refused };
  const suggestion = didYouMean(key, OPENAI_KNOWN_FIELDS);
  return {
    message: 'is not a field of the OpenAI-compatible route',
    hint: suggestion ? `did you mean "${suggestion}"?` : `allowed fields are ${OPENAI_KNOWN_FIELDS.join(', ')}`,
  };
}

/** Validates plugin-level defaults with the same rules as prompt files. */
export function parseDefaults(defaults: unknown, origin = 'plugin option "defaults"'): PromptDefaults {
  const result = defaultsSchema.safeParse(defaults ?? {}, { reportInput: true });
  if (!result.success) throw schemaError(result.error, origin, 'config.md');
  return result.data;
}

/**
 * Parses the JSON text of a prompt or config file. Syntax errors, comments and duplicate keys (JSON
 * allows them; a file that says two things is a mistake) are each an error with line and column.
 */
export function parseJsonText(text: string, file: string, code: ErrorCode = 'INVALID_JSON'): unknown {
  const source = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  if (source.trim() === '') {
    throw new ImagePromptError({
      code,
      file,
      message: 'the file is empty',
      hint: 'write a JSON object with at least "prompt", e.g. { "model": "z-image-turbo", "prompt": "a lighthouse at dusk" }',
    });
  }
  let data: unknown;
  try {
    data = JSON.parse(source);
  } catch (error) {
    const comment = scanJson(source).comment;
    if (comment !== undefined) {
      const { line, column } = lineAndColumn(source, comment);
      throw new ImagePromptError({
        code,
        file: `${file}:${line}:${column}`,
        message: `a comment at line ${line}, column ${column}: these files are plain JSON, which has no comments`,
        hint: 'remove the comment; a note for people can go in the "alt" text or beside the file',
        cause: error,
      });
    }
    const reason = (error as Error).message;
    const position = /position (\d+)/.exec(reason);
    const { line, column } = lineAndColumn(source, position ? Number(position[1]) : source.length);
    throw new ImagePromptError({
      code,
      file: `${file}:${line}:${column}`,
      message: `invalid JSON at line ${line}, column ${column}: ${reason.replace(/\s*\(line \d+ column \d+\)/, '').replace(/ in JSON at position \d+/, '')}`,
      hint: 'fix the JSON syntax (a missing comma or quote, or a trailing comma, is the usual cause)',
      cause: error,
    });
  }
  const duplicate = scanJson(source).duplicate;
  if (duplicate) {
    const { line, column } = lineAndColumn(source, duplicate.offset);
    throw new ImagePromptError({
      code,
      file: `${file}:${line}:${column}`,
      field: duplicate.key,
      message: `appears twice in the same object (again at line ${line}, column ${column}); JSON keeps only the last, so the file says two things`,
      hint: `keep one "${duplicate.key}" and remove the other`,
    });
  }
  return data;
}

function lineAndColumn(source: string, offset: number): { line: number; column: number } {
  const before = source.slice(0, offset);
  return { line: before.split('\n').length, column: offset - before.lastIndexOf('\n') };
}

interface JsonScan {
  /** Offset of the first comment outside a string. */
  comment?: number;
  /** The first key repeated within one object, with the offset of its second appearance. */
  duplicate?: { key: string; offset: number };
}

/** Walks JSON text (strings, brackets, commas) without building values: where comments and repeated keys are. */
function scanJson(source: string): JsonScan {
  const frames: { keys: Set<string> | undefined; expectKey: boolean }[] = [];
  for (let i = 0; i < source.length; i++) {
    const c = source[i];
    const top = frames[frames.length - 1];
    if (c === '"') {
      let end = i + 1;
      while (end < source.length && source[end] !== '"') end += source[end] === '\\' ? 2 : 1;
      if (top?.keys && top.expectKey) {
        let key: string;
        try {
          key = JSON.parse(source.slice(i, end + 1)) as string;
        } catch {
          key = source.slice(i + 1, end);
        }
        if (top.keys.has(key)) return { duplicate: { key, offset: i } };
        top.keys.add(key);
        top.expectKey = false;
      }
      i = end;
    } else if (c === '/' && (source[i + 1] === '/' || source[i + 1] === '*')) return { comment: i };
    else if (c === '{') frames.push({ keys: new Set(), expectKey: true });
    else if (c === '[') frames.push({ keys: undefined, expectKey: false });
    else if (c === '}' || c === ']') frames.pop();
    else if (c === ',' && top?.keys) top.expectKey = true;
  }
  return {};
}

/** What to say of a key the schema does not know. */
export type UnknownKeyDescriber = (key: string, parent: string) => { message: string; hint: string };

/** One error for every problem zod found: the first as the field, the rest as "also" lines. */
export function schemaError(
  error: z.ZodError,
  file: string,
  page: DocsPage,
  code: ErrorCode = 'INVALID_PROMPT_FILE',
  unknownKey: UnknownKeyDescriber = describeUnknownField,
): ImagePromptError {
  const problems = error.issues.flatMap((issue) => describeIssue(issue, unknownKey));
  const first = problems[0]!;
  const rest = problems.slice(1).map((p) => `\n  also: field "${p.field}": ${p.message}${p.hint ? ` (${p.hint})` : ''}`);
  return new ImagePromptError({
    code,
    file,
    field: first.field,
    message: `${first.message}${rest.join('')}`,
    hint: first.hint ?? seeDocs(page),
    cause: error,
  });
}

interface Problem {
  field: string;
  message: string;
  hint?: string;
}

/** An unknown field of a step (in `then`, or of an `"api": "edit"` … file): Venice's old or other names first. */
function describeUnknownStepField(key: string, parent: string, known: readonly string[]): { message: string; hint: string } {
  const refused = STEP_REFUSED[key] ?? (parent === '' ? REFUSED_FIELDS[key] : undefined);
  if (refused) return { message: 'is not allowed here', hint: refused };
  const suggestion = didYouMean(key, known);
  return { message: parent ? `is not a field of this step` : 'is not a field of this kind of prompt file', hint: suggestion ? `did you mean "${suggestion}"?` : `allowed fields are ${known.join(', ')}` };
}

export function describeUnknownField(key: string, parent = ''): { message: string; hint: string } {
  // inside `then`: a step, or a step's fields
  const step = /^then\.\d+(?:\.(\w+))?$/.exec(parent);
  if (step) return describeUnknownStepField(key, parent, stepFieldNames(step[1]));
  const refused = REFUSED_FIELDS[key];
  if (refused) return { message: 'is not allowed in a prompt file', hint: refused };
  const suggestion = didYouMean(key, KNOWN_FIELDS);
  return {
    message: 'is not a field Venice accepts',
    hint: suggestion ? `did you mean "${suggestion}"?${sameWordsOtherCase(key, suggestion) ? " Venice's field names are snake_case" : ''}` : `remove it; allowed fields are ${KNOWN_FIELDS.join(', ')}`,
  };
}

/** `negativePrompt` for `negative_prompt` is a naming habit; `widht` for `width` is a typo. */
function sameWordsOtherCase(key: string, field: string): boolean {
  return key !== field && fold(key) === fold(field);
}

function describeIssue(issue: z.core.$ZodIssue, unknownKey: UnknownKeyDescriber): Problem[] {
  const field = issue.path.map(String).join('.') || '(root)';
  if (issue.code === 'unrecognized_keys') {
    const parent = issue.path.map(String).join('.');
    return issue.keys.map((key) => ({ field: parent ? `${parent}.${key}` : key, ...unknownKey(key, parent) }));
  }
  if (issue.code === 'invalid_type') {
    const missing = issue.input === undefined;
    if (missing) return [{ field, message: 'is required', hint: `add "${field}" to the file` }];
    return [{ field, message: `must be ${article(issue.expected)}, found ${describeValue(issue.input)}` }];
  }
  if (issue.code === 'invalid_value') {
    // a schema's own message says more than the list of one allowed value
    if (!issue.message.startsWith('Invalid')) return [{ field, message: `${issue.message}, found ${describeValue(issue.input)}` }];
    const options = issue.values.map((v) => JSON.stringify(v)).join(', ');
    return [{ field, message: `${describeValue(issue.input)} is not allowed`, hint: `use one of ${options}` }];
  }
  return [{ field, message: `${issue.message}${issue.input === undefined ? '' : `, found ${describeValue(issue.input)}`}` }];
}

function article(type: string): string {
  if (type === 'int') return 'a whole number';
  return /^[aeiou]/.test(type) ? `an ${type}` : `a ${type}`;
}

function describeValue(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.length > 60 ? `${value.slice(0, 57)}...` : value);
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') return 'an object';
  return String(value);
}
