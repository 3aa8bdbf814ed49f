/**
 * Venice's `POST /image/generate` over HTTP. One image travels as raw bytes (`return_binary`) and
 * is streamed straight to the cache; several variants come as JSON (compressed) and are decoded.
 * The routes that take images (upscale, background removal, edit, multi-edit) are sent JSON with
 * the images in base64 and answer raw bytes, streamed to the cache the same way.
 * The API key goes only into the Authorization header of requests to the configured base URL.
 */
import { readFile } from 'node:fs/promises';
import { checkBaseURL, checkCredentialTransport } from '../config/connection-checks.js';
import { ImagePromptError } from '../errors/errors.js';
import { looksComplete, sniffImage, type ImageInfo } from '../images/image-bytes.js';
import type { NormalisedRequest } from '../prompt/normalise-request.js';
import type { OpenAIRequest } from '../prompt/openai-route.js';
import type { StepSend } from '../steps/prepare-chain.js';
import { RatePacer } from './rate-pacer.js';
import { DEFAULT_RETRY_POLICY, RETRYABLE_STATUSES, backoffDelay, rateLimitDelay, type RetryPolicy } from '../http/retry-policy.js';
import type { StagedFile } from '../cache/atomic-file.js';
import { Base64StreamError, readImagesJson } from './json-images-stream.js';
import { BodyTooLarge, capped, readPrefix, safeServerText } from '../http/bounded-body.js';
import { maxBytesFor, sizeProblem } from '../images/image-check.js';
import { GenerationQueue } from '../engine/generation-queue.js';
import { ApiKeyCredential, PreSignedSignIn, type Credential } from './credentials.js';
import { walletPaymentError } from './wallet-answers.js';

export const DEFAULT_BASE_URL = 'https://api.venice.ai/api/v1';

/** Where the client puts image bytes; the cache store is one. */
export interface BlobSink {
  stage(chunks: AsyncIterable<Uint8Array> | Iterable<Uint8Array>): Promise<StagedFile>;
  discard(staged: StagedFile[]): Promise<void>;
}

export interface StagedImage extends ImageInfo {
  staged: StagedFile;
}

export interface GenerateResult {
  id: string | null;
  cfRay: string | null;
  timing: Record<string, number> | null;
  blurred: boolean;
  contentViolation: boolean;
  /** The answer came from a simulator (it said so): its images are drawings, never paid ones. */
  simulator: boolean;
  images: StagedImage[];
  attempts: number;
}

export interface RetryNotice {
  attempt: number;
  delayMs: number;
  reason: string;
}

/** What the caller hears about one generation's attempts; the engine keeps its spending with these. */
export interface GenerateHooks {
  onRetry?: (notice: RetryNotice) => void;
  /** Before each attempt is sent; throwing stops the generation (a spend cap, say). */
  beforeAttempt?: (attempt: number) => void;
  /** After each attempt: whether Venice answered 200 with an image body, and so charged for it. */
  afterAttempt?: (attempt: number, charged: boolean) => void;
}

export interface VeniceClientOptions {
  /** The API key, sent as `Authorization: Bearer …`; or, with `siwx` or `credential`, unused. */
  apiKey?: string;
  /** An x402 wallet's SIGN-IN-WITH-X value, sent once instead of the key. */
  siwx?: string;
  /** What pays, when it is neither a plain key nor one pre-signed value: a wallet that signs every attempt. */
  credential?: Credential;
  baseURL?: string;
  /** Per attempt, headers and body included. @default 180000 */
  timeoutMs?: number;
  retry?: Partial<RetryPolicy>;
  /** Keep images Venice blurred under safe mode instead of failing them. @default false */
  acceptBlurred?: boolean;
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
  /** Who answers, in messages: `Venice` or `provider "<name>"`. @default 'Venice' */
  label?: string;
}

interface VeniceErrorBody {
  error?: string | { message?: string };
  message?: string;
  details?: unknown;
  issues?: { path?: (string | number)[]; message?: string }[];
}

const SETTINGS_URL = 'https://venice.ai/settings/api';
/** Waits for a wallet's in-flight slot that do not count as attempts, before they do. */
const MAX_UNCOUNTED_WAITS = 30;

export class VeniceClient {
  readonly baseURL: string;
  /** What pays: its headers go on every request. */
  private readonly credential: Credential;
  /** At most this many requests in flight, when the credential has a limit (a wallet's five). */
  private readonly inFlight: GenerationQueue | undefined;
  private readonly timeoutMs: number;
  private readonly retry: RetryPolicy;
  private readonly acceptBlurred: boolean;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly random: () => number;
  private readonly pacer: RatePacer;
  /** A 401 or 402 holds for every request with this key: later requests fail without being sent. */
  private refused: ImagePromptError | undefined;
  /** Who answers, in messages. */
  readonly label: string;
  /** Masked in anything a server says, should it echo one back. */
  private readonly secrets: string[];
  /** Answers that said they came from a simulator (whatever their status): nothing of them was paid. */
  simulatorAnswers = 0;
  /** A wallet's balance in USD as Venice last gave it (`X-Balance-Remaining`), when it did. */
  balanceRemaining: string | undefined;

  constructor(options: VeniceClientOptions) {
    this.credential = options.credential ?? (options.siwx ? new PreSignedSignIn(options.siwx) : new ApiKeyCredential(options.apiKey ?? ''));
    this.inFlight = this.credential.maxInFlight ? new GenerationQueue(this.credential.maxInFlight) : undefined;
    this.baseURL = checkBaseURL(options.baseURL ?? DEFAULT_BASE_URL, 'the base URL');
    checkCredentialTransport(this.baseURL, this.credential.kind === 'key' ? 'the API key' : 'the wallet sign-in');
    this.label = options.label ?? 'Venice';
    this.secrets = [...this.credential.secrets];
    this.timeoutMs = options.timeoutMs ?? 180_000;
    this.retry = { ...DEFAULT_RETRY_POLICY, ...options.retry };
    this.acceptBlurred = options.acceptBlurred ?? false;
    this.sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
    this.random = options.random ?? Math.random;
    this.pacer = new RatePacer(Date.now, this.sleep);
  }

  /**
   * Generates one request, retrying only faults of the HTTP exchange and Venice's retryable answers.
   * An error from the sink (the cache could not store the bytes) is never retried: the next attempt
   * would be paid again and meet the same disk.
   */
  async generate(request: NormalisedRequest, sink: BlobSink, hooks: GenerateHooks = {}): Promise<GenerateResult> {
    return this.retrying(request.model, request.variants, hooks, (charge) => this.attempt(request, sink, charge));
  }

  /** One image from the OpenAI-compatible route, `POST {baseURL}/images/generations`, with the same retries. */
  async generateOpenAI(request: OpenAIRequest, sink: BlobSink, hooks: GenerateHooks = {}): Promise<GenerateResult> {
    return this.retrying(request.model, 1, hooks, (charge) => this.attemptOpenAI(request, sink, charge));
  }

  /** One step on images (upscale, background removal, edit), with the same retries: one image back. */
  async runStep(step: StepSend, sink: BlobSink, hooks: GenerateHooks = {}): Promise<GenerateResult> {
    return this.retrying(step.model, 1, hooks, (charge) => this.attemptStep(step, sink, charge));
  }

  /** The attempts of one generation: paced, retried where a retry can mend the fault, never after a sink failure. */
  private async retrying(
    model: string,
    count: number,
    hooks: GenerateHooks,
    attempt: (charge: { charged: boolean }) => Promise<Omit<GenerateResult, 'attempts'>>,
  ): Promise<GenerateResult> {
    if (this.refused) {
      throw new ImagePromptError({
        code: this.refused.code,
        message: `${this.refused.message.split('\n')[0]} (not sent: an earlier request with ${this.credential.label} was refused)`,
        hint: this.refused.hint,
        status: this.refused.status,
      });
    }
    let waits = 0;
    for (let n = 1; ; n++) {
      let delayMs: number;
      let failure: ImagePromptError;
      hooks.beforeAttempt?.(n);
      const charge = { charged: false };
      try {
        await this.pacer.acquire(model, count);
        const result = this.inFlight ? await this.inFlight.slot(() => attempt(charge)) : await attempt(charge);
        hooks.afterAttempt?.(n, true);
        return { ...result, attempts: n };
      } catch (error) {
        hooks.afterAttempt?.(n, charge.charged);
        if (error instanceof RetryableResponse) {
          failure = error.failure;
          delayMs = error.delayMs;
          if (!error.counts && waits < MAX_UNCOUNTED_WAITS) waits += 1;
        } else if (error instanceof ImagePromptError) {
          if (error.status === 401 || error.status === 402) this.refused = error;
          if (!error.retryable) throw error;
          failure = error;
          delayMs = backoffDelay(n, this.retry, this.random);
        } else {
          throw error;
        }
      }
      // attempts that only waited for a wallet's slot (up to MAX_UNCOUNTED_WAITS) are not counted
      if (n - waits >= this.retry.maxAttempts) throw failure;
      if (delayMs > this.retry.maxWaitMs) {
        throw new ImagePromptError({
          code: 'VENICE_UNAVAILABLE',
          message: `${failure.message.split('\n')[0]}; Venice asked to wait ${Math.round(delayMs / 1000)} s`,
          hint: 'try again later',
          status: failure.status,
        });
      }
      hooks.onRetry?.({ attempt: n, delayMs, reason: failure.message.split('\n')[0]! });
      await this.sleep(delayMs);
    }
  }

  /**
   * A wallet's credit on Venice (`GET /x402/balance/{address}`, signed in like any request): free, for
   * `plan` to compare with what it would spend. The answer is read bounded and only its numbers kept;
   * any failure is a thrown error for the caller to say, never a retry.
   */
  async walletBalance(address: string): Promise<{ balanceUsd: number; canConsume: boolean | undefined }> {
    const response = await fetch(`${this.baseURL}/x402/balance/${encodeURIComponent(address)}`, {
      headers: { ...(await this.credential.headers()), Accept: 'application/json' },
      signal: AbortSignal.timeout(Math.min(this.timeoutMs, 15_000)),
      redirect: 'manual',
    }).catch((error: unknown) => {
      throw this.networkError(error);
    });
    const text = await readPrefix(response);
    if (response.status !== 200) throw this.responseError(response, text);
    let data: { balanceUsd?: unknown; canConsume?: unknown } | undefined;
    try {
      data = (JSON.parse(text) as { data?: typeof data }).data;
    } catch {
      // (the parser's message would quote the server's text)
      throw new Error('the answer is not JSON');
    }
    const balance = typeof data?.balanceUsd === 'string' ? Number(data.balanceUsd) : data?.balanceUsd;
    if (typeof balance !== 'number' || !Number.isFinite(balance) || balance < 0) throw new Error('the answer holds no balance');
    return { balanceUsd: balance, canConsume: typeof data?.canConsume === 'boolean' ? data.canConsume : undefined };
  }

  /** Sends one POST to a route and reads what every answer shares: pacing, status, moderation headers. */
  private async post(path: string, model: string, body: object, accept: string, encoding: string): Promise<{ response: Response; meta: AnswerMeta }> {
    const signal = AbortSignal.timeout(this.timeoutMs);
    let response: Response;
    // a wallet signs a fresh sign-in for every attempt, so a retry is never refused as a reused nonce
    const credential = await this.credential.headers();
    try {
      response = await fetch(`${this.baseURL}/${path}`, {
        method: 'POST',
        headers: { ...credential, 'Content-Type': 'application/json', Accept: accept, 'Accept-Encoding': encoding },
        body: JSON.stringify(body),
        signal,
        // a redirect would carry the credential header to wherever it points: an API never redirects
        redirect: 'manual',
      });
    } catch (error) {
      throw this.networkError(error);
    }
    this.pacer.observe(model, response.headers);
    const meta: AnswerMeta = {
      cfRay: response.headers.get('cf-ray'),
      blurred: response.headers.get('x-venice-is-blurred') === 'true',
      contentViolation: response.headers.get('x-venice-is-content-violation') === 'true',
      simulator: response.headers.has('x-venice-simulator'),
    };
    if (meta.simulator) this.simulatorAnswers += 1;
    const balance = response.headers.get('x-balance-remaining')?.trim();
    if (balance && /^\d{1,9}(\.\d{1,12})?$/.test(balance)) this.balanceRemaining = balance;
    if (response.status !== 200) {
      // the first few kilobytes say what went wrong; an endless error body is not read further
      const text = await readPrefix(response);
      throw this.responseError(response, text);
    }
    if (meta.contentViolation) {
      await response.body?.cancel();
      throw new ImagePromptError({
        code: 'CONTENT_VIOLATION',
        message: `${this.label} flagged this request as a content-policy violation and returned no image (not charged)`,
        hint: 'rephrase the prompt; nothing was cached',
      });
    }
    if (meta.blurred && !this.acceptBlurred) {
      await response.body?.cancel();
      throw new ImagePromptError({
        code: 'BLURRED',
        message: `${this.label} blurred this image because safe_mode is on and the output was judged adult content`,
        hint: 'change the prompt, set "safe_mode": false in the prompt file ("moderation": "low" on the OpenAI route), or set the plugin option acceptBlurred: true to keep blurred images',
      });
    }
    return { response, meta };
  }

  private async attemptOpenAI(request: OpenAIRequest, sink: BlobSink, charge: { charged: boolean }): Promise<Omit<GenerateResult, 'attempts'>> {
    const { response, meta } = await this.post('images/generations', request.model, { ...request, response_format: 'b64_json' }, 'application/json', 'gzip, br');
    charge.charged = true;
    try {
      const contentType = response.headers.get('content-type') ?? '';
      if (!contentType.includes('json')) {
        await response.body?.cancel();
        throw badImage(`the answer has content type "${safeServerText(contentType, this.secrets, 80)}" instead of JSON`);
      }
      // one image a call: the answer is read whole, then the image is decoded and staged
      let document: { created?: number; data?: { b64_json?: unknown; url?: unknown }[] };
      try {
        // base64 takes 4 bytes for 3: an answer past that for the largest image is cut off
        const limit = Math.ceil((maxBytesFor(undefined) * 4) / 3) + 64 * 1024;
        const parts: Uint8Array[] = [];
        for await (const part of capped(chunksOf(response.body), limit, 'the JSON answer')) parts.push(part);
        document = JSON.parse(Buffer.concat(parts).toString('utf8')) as typeof document;
      } catch (error) {
        if (error instanceof SyntaxError) throw badImage(`the JSON answer could not be read (${error.message})`);
        if (error instanceof BodyTooLarge) throw badImage(error.message);
        throw error;
      }
      const item = document.data?.[0];
      const base64 = typeof item?.b64_json === 'string' ? item.b64_json : typeof item?.url === 'string' ? item.url.replace(/^data:[^,]*,/, '') : undefined;
      if (document.data?.length !== 1 || base64 === undefined) throw badImage(`the answer held ${document.data?.length ?? 0} images where 1 was asked for`);
      if (!/^[A-Za-z0-9+/]*={0,2}$/.test(base64) || base64.length % 4 !== 0) throw badImage('the image in the answer is not valid base64');
      const image = await this.stageChecked(sink, [Buffer.from(base64, 'base64')], request.output_format, request.model, undefined);
      return { id: null, timing: null, ...meta, images: [image] };
    } catch (error) {
      if (error instanceof ImagePromptError) throw error;
      if (error instanceof SinkError) throw error.failure;
      throw this.networkError(error);
    }
  }

  private async attemptStep(step: StepSend, sink: BlobSink, charge: { charged: boolean }): Promise<Omit<GenerateResult, 'attempts'>> {
    // the inputs' bytes in place of their digests; read again for every attempt (they are files on disk)
    const images = await Promise.all(step.inputs.map(async (input) => (await readFile(input.path)).toString('base64')));
    const body = step.route === 'image/multi-edit' ? { ...step.body, images } : { ...step.body, image: images[0] };
    const { response, meta } = await this.post(step.route, step.model, body, 'image/*', 'identity');
    charge.charged = true;
    try {
      const contentType = response.headers.get('content-type') ?? '';
      if (!contentType.startsWith('image/')) {
        await response.body?.cancel();
        throw badImage(`${this.label} answered with content type "${safeServerText(contentType, this.secrets, 80)}" instead of an image`);
      }
      const image = await this.stageChecked(sink, response.body ?? emptyStream(), step.format, step.model, step.check);
      return { id: null, timing: null, ...meta, images: [image] };
    } catch (error) {
      if (error instanceof ImagePromptError) throw error;
      if (error instanceof SinkError) throw error.failure;
      throw this.networkError(error);
    }
  }

  private async attempt(request: NormalisedRequest, sink: BlobSink, charge: { charged: boolean }): Promise<Omit<GenerateResult, 'attempts'>> {
    const binary = request.variants === 1;
    const { variants: _variants, ...single } = request;
    const body = binary ? { ...single, return_binary: true } : { ...request, return_binary: false };
    const { response, meta } = await this.post('image/generate', request.model, body, binary ? 'image/*' : 'application/json', binary ? 'identity' : 'gzip, br');
    const contentType = response.headers.get('content-type') ?? '';
    // a 200 that is not a content violation was charged, whatever its body turns out to hold
    charge.charged = true;
    try {
      if (binary) {
        if (!contentType.startsWith('image/')) {
          await response.body?.cancel();
          throw badImage(`${this.label} answered with content type "${safeServerText(contentType, this.secrets, 80)}" instead of an image`);
        }
        const images = [await this.stageChecked(sink, response.body ?? emptyStream(), request.format, request.model, request)];
        return { id: null, timing: null, ...meta, images };
      }
      if (!contentType.includes('json')) {
        await response.body?.cancel();
        throw badImage(`${this.label} answered with content type "${safeServerText(contentType, this.secrets, 80)}" instead of JSON`);
      }
      // images are decoded and staged as they stream in, never holding the whole answer in memory
      const staged: StagedImage[] = [];
      let document: Record<string, unknown>;
      try {
        ({ document } = await readImagesJson(response.body ?? emptyStream(), async (bytes) => {
          const image = await this.stageChecked(sink, bytes, request.format, request.model, request);
          staged.push(image);
          return image;
        }));
      } catch (error) {
        await sink.discard(staged.map((i) => i.staged));
        if (error instanceof Base64StreamError) throw badImage(`${this.label}'s answer is unusable: ${error.message}`);
        if (error instanceof SyntaxError) throw badImage(`${this.label}'s JSON answer could not be read (${error.message})`);
        throw error;
      }
      if (staged.length !== request.variants) {
        await sink.discard(staged.map((i) => i.staged));
        throw badImage(`${this.label}'s JSON held ${staged.length} images where ${request.variants} were asked for`);
      }
      return {
        id: typeof document.id === 'string' ? document.id : null,
        timing: typeof document.timing === 'object' && document.timing !== null ? (document.timing as Record<string, number>) : null,
        ...meta,
        images: staged,
      };
    } catch (error) {
      if (error instanceof ImagePromptError) throw error;
      if (error instanceof SinkError) throw error.failure;
      throw this.networkError(error);
    }
  }

  /**
   * Stages the bytes (never more than the largest image the request can be), then checks they are a
   * whole image of the format and pixel size asked for (`request`; undefined on the OpenAI-compatible
   * route, whose sizes are its provider's: then only the absolute bounds apply).
   */
  private async stageChecked(
    sink: BlobSink,
    chunks: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
    format: string,
    model: string,
    request: NormalisedRequest | undefined,
  ): Promise<StagedImage> {
    let staged: StagedFile;
    try {
      staged = await sink.stage(capped(chunks, maxBytesFor(request), `the image ${this.label} sent`));
    } catch (error) {
      // the sink marks its own failures; anything else came from reading the answer
      if (error instanceof ImagePromptError && !error.retryable) throw new SinkError(error);
      if (error instanceof BodyTooLarge) throw badImage(error.message);
      throw error;
    }
    const info = sniffImage(staged.head);
    let problem: string | undefined;
    if (!info) problem = `the bytes ${this.label} sent are not a PNG, JPEG or WebP image`;
    else if (info.format !== format && !model.startsWith('grok-imagine')) problem = `${this.label} sent a ${info.format} image where ${format} was asked for`;
    else if (!looksComplete(info.format, staged.head, staged.tail, staged.size)) problem = `the image ${this.label} sent is truncated`;
    else {
      const wrongSize = sizeProblem(info, request);
      if (wrongSize) problem = `the image ${this.label} sent does not answer the request: ${wrongSize}`;
    }
    if (problem || !info) {
      await sink.discard([staged]);
      throw badImage(problem ?? 'unreadable image');
    }
    return { ...info, staged };
  }

  private networkError(error: unknown): ImagePromptError {
    const name = (error as Error)?.name;
    if (name === 'TimeoutError' || name === 'AbortError') {
      return new ImagePromptError({
        code: 'TIMEOUT',
        message: `${this.label} did not answer within ${Math.round(this.timeoutMs / 1000)} s`,
        hint: 'raise the timeout option if large images need longer',
        retryable: true,
        cause: error,
      });
    }
    const cause = (error as { cause?: { code?: string; message?: string } })?.cause;
    const reason = safeServerText(cause?.code ?? cause?.message ?? (error as Error)?.message ?? String(error), this.secrets);
    return new ImagePromptError({
      code: 'VENICE_UNAVAILABLE',
      message: `the connection to ${this.label} failed (${reason})`,
      hint: `check the network and the base URL (${this.label === 'Venice' ? 'VENICE_BASE_URL or the baseURL option' : `providers in imageprompt.config.json`})`,
      retryable: true,
      cause: error,
    });
  }

  private responseError(response: Response, text: string): Error {
    let body: VeniceErrorBody = {};
    try {
      body = JSON.parse(text) as VeniceErrorBody;
      if (typeof body !== 'object' || body === null) body = { error: text };
    } catch {
      body = { error: text };
    }
    const said = (typeof body.error === 'string' ? body.error : body.error?.message) ?? body.message ?? response.statusText ?? 'no message';
    // a server's words: no escape sequences, no echoed secret, not a page long
    const veniceMessage = safeServerText(typeof said === 'string' ? said : JSON.stringify(said), this.secrets);
    const status = response.status;
    if (status >= 300 && status < 400) {
      return new ImagePromptError({
        code: 'VENICE_REJECTED',
        message: `${this.label} answered ${status}, a redirect, which is not followed (it would take the credential elsewhere)`,
        hint: `check the base URL (${this.baseURL}): it must be the API's own address`,
        status,
      });
    }
    const quoted = `${this.label} answered ${status}: "${veniceMessage}"`;
    if (status === 422 && /content policy/i.test(veniceMessage)) {
      return new ImagePromptError({ code: 'CONTENT_VIOLATION', message: `${quoted}: the edit was judged a content-policy violation, and no image was returned`, hint: 'rephrase the edit prompt (or edit another image); nothing was cached', status });
    }
    const x402 = body as VeniceErrorBody & { x402Version?: number; code?: string };
    if (status === 429 && x402.code === 'X402_CONCURRENCY_LIMIT') {
      // another process pays with the same wallet (this one never has more than five in flight):
      // waited out, and not counted as a failed attempt
      const failure = new ImagePromptError({
        code: 'VENICE_UNAVAILABLE',
        message: `${quoted}: ${this.credential.label} has as many requests in flight as Venice allows`,
        hint: 'another process is paying with the same wallet; give each CI job its own wallet, or lower concurrency',
        retryable: true,
        status,
      });
      return new RetryableResponse(failure, rateLimitDelay(response.headers, veniceMessage, Date.now(), this.random), false);
    }
    if (RETRYABLE_STATUSES.has(status)) {
      const failure = new ImagePromptError({ code: 'VENICE_UNAVAILABLE', message: quoted, hint: `${this.label} may be busy; try again later`, retryable: true, status });
      // a 429 says how long to wait; other retryable statuses back off by the policy
      return status === 429 ? new RetryableResponse(failure, rateLimitDelay(response.headers, veniceMessage, Date.now(), this.random)) : failure;
    }
    if (status === 402 && x402.x402Version !== undefined) {
      return new ImagePromptError({
        code: 'VENICE_REJECTED',
        message: `${this.label} answered 402: no credentials it accepts were sent, so it asks for payment ("${veniceMessage}")`,
        hint: `set VENICE_API_KEY to an API key (from ${SETTINGS_URL}), or VENICE_WALLET_PRIVATE_KEY to an x402 wallet's key (a wallet with credit on Venice)`,
        status,
      });
    }
    const unpaid = status === 402 ? walletPaymentError(body, this.credential.label, this.secrets) : undefined;
    if (unpaid) return unpaid;
    if (status === 401 && typeof x402.code === 'string' && x402.code.startsWith('X402_SIGN_IN')) {
      return new ImagePromptError({
        code: 'VENICE_REJECTED',
        message: `${this.label} refused the sign-in of ${this.credential.label} (${safeServerText(x402.code, this.secrets, 60)}): "${veniceMessage}"`,
        hint: this.credential.refusedHint,
        status,
      });
    }
    const issue = body.issues?.[0];
    const field = Array.isArray(issue?.path) && issue.path.length ? safeServerText(issue.path.join('.'), this.secrets, 80) : undefined;
    const details = Array.isArray(body.issues) ? safeServerText(body.issues.map((i) => i?.message).filter((m) => typeof m === 'string').join('; '), this.secrets) : undefined;
    const hints: Record<number, string> = {
      400: `fix ${field ? `field "${field}"` : 'the request'} in the prompt file${details ? ` (${details})` : ''}`,
      401: this.credential.refusedHint,
      402: `add credits or raise the key's spend limit at ${SETTINGS_URL}`,
      403: "this key may not use this model (its model privacy setting); choose another model or key",
      404: 'check "model": list image models with GET /models?type=image',
      413: 'the request is too large; shorten the prompt or drop style references',
      415: 'this is a bug in imageprompt; please report it',
      422: 'a style reference image is too large; use a smaller one',
    };
    return new ImagePromptError({
      code: 'VENICE_REJECTED',
      message: quoted,
      field,
      hint: hints[status] ?? `see ${this.label}'s message above`,
      status,
    });
  }
}

/** What every 200 answer says besides its body. */
interface AnswerMeta {
  cfRay: string | null;
  blurred: boolean;
  contentViolation: boolean;
  simulator: boolean;
}

/** A failure of the sink, carried through the JSON stream reader untouched. */
class SinkError extends Error {
  constructor(readonly failure: ImagePromptError) {
    super(failure.message);
  }
}

/** A 429 with the wait Venice asked for; `counts` false when waiting it out is no failed attempt. */
class RetryableResponse extends Error {
  constructor(
    readonly failure: ImagePromptError,
    readonly delayMs: number,
    readonly counts = true,
  ) {
    super(failure.message);
  }
}

function badImage(message: string): ImagePromptError {
  return new ImagePromptError({ code: 'BAD_IMAGE', message, hint: 'nothing was cached; the request is retried, then fails', retryable: true });
}

async function* emptyStream(): AsyncIterable<Uint8Array> {}

/** A web stream body as chunks. */
async function* chunksOf(body: ReadableStream<Uint8Array> | null): AsyncIterable<Uint8Array> {
  if (body) for await (const chunk of body as unknown as AsyncIterable<Uint8Array>) yield chunk;
}
