/** Error responses in the shapes Venice sends (reference §2.7). */

export interface ApiError {
  status: number;
  body: Record<string, unknown>;
  /** Whether the error counts toward the >50-failures-in-30-s budget (§8). */
  countsTowardBudget: boolean;
  headers?: Record<string, string>;
}

export interface ValidationIssue {
  code: string;
  path: (string | number)[];
  message: string;
  [key: string]: unknown;
}

export function standardError(status: number, message: string, countsTowardBudget = true): ApiError {
  return { status, body: { error: message }, countsTowardBudget };
}

/** A zod-style `DetailedError`: `details` is a formatted error tree, `issues` the flat list. */
export function detailedError(issues: ValidationIssue[]): ApiError {
  const details: Record<string, unknown> = { _errors: [] as string[] };
  for (const issue of issues) {
    let node = details;
    for (const segment of issue.path) {
      const key = String(segment);
      node[key] ??= { _errors: [] };
      node = node[key] as Record<string, unknown>;
    }
    (node._errors as string[]).push(issue.message);
  }
  return { status: 400, body: { error: 'Invalid request parameters', details, issues }, countsTowardBudget: true };
}

export const MESSAGES = {
  authFailed: 'Authentication failed',
  insufficientBalance:
    'Insufficient USD or Diem balance to complete request. Visit https://venice.ai/settings/api to add credits.',
  rateLimited: 'Rate limit exceeded',
  overloaded: 'The model is currently overloaded. Please try again later.',
  lockedOut:
    'Too many failed attempts (> 50) resulting in a non-success status code. Please wait 30 seconds and try again. See https://docs.venice.ai/api-reference/rate-limiting for more information.',
  inferenceFailed: 'Inference processing failed',
  atCapacity: 'The model is at capacity. Please try again later.',
  badContentType: "'Content-Type' must be 'application/json'",
  invalidJson: 'Invalid JSON request',
  modelRequired: 'model is required',
  modelNotString: 'model must be a string',
} as const;

/** The x402 discovery body sent when a credentialed route gets no credentials at all (§7). */
export function paymentRequired(resourceUrl: string): ApiError {
  const body = {
    x402Version: 2,
    error: 'Payment required: send an API key or sign in with an x402 wallet',
    resource: { url: resourceUrl, description: 'Venice AI inference', mimeType: 'application/json' },
    accepts: [
      {
        scheme: 'exact',
        network: 'eip155:8453',
        asset: '0x833589fCD6eDb6E08f4c7C32D4f71b54bdA02913',
        amount: '10000',
        payTo: '0x0000000000000000000000000000000000000000',
        maxTimeoutSeconds: 300,
        extra: { name: 'USD Coin', version: '2' },
      },
    ],
    extensions: { 'sign-in-with-x': { supportedChains: ['eip155:8453', 'solana:5eykt4UsFv8P8NJdTREpY1vzqKqZKvdp'] } },
    authOptions: {
      apiKey: { header: 'Authorization', getKey: 'https://venice.ai/settings/api', docs: 'https://docs.venice.ai' },
      x402Wallet: {
        header: 'SIGN-IN-WITH-X',
        legacyHeader: 'X-Sign-In-With-X',
        topUp: '/api/v1/x402/top-up',
        docs: 'https://docs.venice.ai',
      },
    },
  };
  return {
    status: 402,
    body,
    countsTowardBudget: false,
    headers: { 'payment-required': Buffer.from(JSON.stringify(body)).toString('base64') },
  };
}
