/**
 * The one error type the engine throws. Every error says which file and field, what was wrong
 * and what to do next, and keeps its cause.
 */

import { ERROR_CATALOG, type ErrorCode } from './error-catalog.js';

export type { ErrorCode } from './error-catalog.js';

export interface ErrorDetails {
  code: ErrorCode;
  /** What went wrong, in one sentence. */
  message: string;
  /** What to do about it. */
  hint?: string;
  /** The prompt file concerned, if any. */
  file?: string;
  /** The field concerned, if any (a dotted path). */
  field?: string;
  /** Whether trying the same request again may succeed. */
  retryable?: boolean;
  /** The HTTP status Venice answered with, if any. */
  status?: number;
  cause?: unknown;
}

export class ImagePromptError extends Error {
  readonly code: ErrorCode;
  readonly hint: string | undefined;
  readonly file: string | undefined;
  readonly field: string | undefined;
  readonly retryable: boolean;
  readonly status: number | undefined;

  constructor(details: ErrorDetails) {
    super(formatMessage(details), details.cause === undefined ? undefined : { cause: details.cause });
    this.name = 'ImagePromptError';
    this.code = details.code;
    this.hint = details.hint;
    this.file = details.file;
    this.field = details.field;
    this.retryable = details.retryable ?? false;
    this.status = details.status;
  }

  /** The kind of error, from the catalog (`docs/errors.md`). */
  get title(): string {
    return ERROR_CATALOG[this.code].title;
  }

  /** The same error, now naming the prompt file it came from. */
  withFile(file: string): ImagePromptError {
    if (this.file) return this;
    return new ImagePromptError({
      code: this.code,
      message: this.message.split('\n')[0]!,
      hint: this.hint,
      file,
      field: this.field,
      retryable: this.retryable,
      status: this.status,
      cause: this.cause,
    });
  }
}

function formatMessage(details: ErrorDetails): string {
  const where = [details.file, details.field ? `field "${details.field}"` : undefined].filter(Boolean).join(', ');
  const head = where ? `${where}: ${details.message}` : details.message;
  return details.hint ? `${head}\n  → ${details.hint}` : head;
}
