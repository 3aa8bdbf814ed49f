import { safeServerText } from '../http/bounded-body.js';
import type { HttpAnswer } from '../http/http-exchange.js';

/**
 * The shared cache's storage, as the remote layer needs it: objects named by a path under a prefix,
 * read as a stream, written whole, created only if absent where the store can promise that. S3, a
 * plain HTTP server with PUT, and storage-library drivers each implement it in a few lines.
 */

export interface RemoteBody {
  stream: AsyncIterable<Uint8Array>;
  /** Bytes, when the store says. */
  size: number | undefined;
}

export interface PutOptions {
  /** Create only if no object has this path (`If-None-Match: *`); resolves false when one had. */
  ifAbsent?: boolean;
  contentType?: string;
}

export interface RemoteBackend {
  /** Where it points, for messages: never holds a credential. */
  readonly label: string;
  /** Whether this backend was given what it needs to write. */
  readonly canWrite: boolean;
  /** The object, or undefined when there is none (404). */
  get(path: string, signal: AbortSignal): Promise<RemoteBody | undefined>;
  /** Writes the object; `false` only when `ifAbsent` was asked and the object existed. */
  put(path: string, body: Uint8Array | (() => AsyncIterable<Uint8Array>), size: number, options: PutOptions, signal: AbortSignal): Promise<boolean>;
  exists(path: string, signal: AbortSignal): Promise<boolean>;
  remove(path: string, signal: AbortSignal): Promise<void>;
  /** Objects under a folder (paths relative to the prefix), where the store can list them. */
  list?(folder: string, signal: AbortSignal): Promise<ListedObject[]>;
}

export interface ListedObject {
  path: string;
  /** When the store last wrote it, epoch ms, where the store tells. */
  modifiedMs?: number;
}

/**
 * A failure of the remote: `retryable` for faults a retry can mend (5xx, 429, timeouts, resets);
 * `misconfigured` for a setting that makes every operation fail the same way (a bucket that does not
 * exist, credentials the store does not know, the wrong region), which no retry and no other file mends.
 */
export class RemoteError extends Error {
  constructor(
    message: string,
    readonly retryable: boolean,
    readonly status?: number,
    readonly misconfigured = false,
  ) {
    super(message);
    this.name = 'RemoteError';
  }
}

/** A misconfiguration, said in one line: what is wrong and which setting mends it. */
export function misconfiguration(reason: string, status?: number): RemoteError {
  return new RemoteError(reason, false, status, true);
}

/** Turns a non-2xx answer into a RemoteError that names the operation, path and status. */
export async function answerError(what: string, answer: HttpAnswer): Promise<RemoteError> {
  await answer.discard();
  const status = answer.status;
  if (status >= 300 && status < 400) {
    return new RemoteError(`${what}: HTTP ${status}, a redirect, which is not followed (credentials never go to another address); point the shared cache at the store's own address`, false, status);
  }
  const why = status === 401 || status === 403 ? 'access denied: check the credentials and that they may do this' : safeServerText(answer.statusText, [], 80) || 'no reason given';
  return new RemoteError(`${what}: HTTP ${status} (${why})`, status === 429 || status >= 500, status);
}

/** A GET's answer: the body as a stream, or undefined for 404; any other failure throws. */
export async function bodyOrMiss(what: string, answer: HttpAnswer): Promise<RemoteBody | undefined> {
  if (answer.status === 404) {
    await answer.discard();
    return undefined;
  }
  if (!answer.ok) throw await answerError(what, answer);
  // identity was asked for: bytes in another coding are not the bytes stored
  const coding = answer.header('content-encoding');
  if (coding !== undefined && coding.toLowerCase() !== 'identity') {
    await answer.discard();
    throw new RemoteError(`${what}: the answer is encoded (Content-Encoding: ${safeServerText(coding, [], 40)}) although none was asked for; serve the shared cache's files as they are`, false);
  }
  const length = answer.header('content-length');
  return { stream: answer.body, size: length === undefined ? undefined : Number(length) };
}

/** A PUT's answer: true when written, false for 412 (a conditional create that found the object). */
export async function putAnswer(what: string, answer: HttpAnswer): Promise<boolean> {
  if (answer.status === 412) {
    await answer.discard();
    return false;
  }
  if (!answer.ok) throw await answerError(what, answer);
  await answer.discard();
  return true;
}

/** A HEAD's or DELETE's answer: whether the object is (was) there; 404 is no failure. */
export async function presenceAnswer(what: string, answer: HttpAnswer): Promise<boolean> {
  await answer.discard();
  if (answer.status === 404) return false;
  if (!answer.ok) throw await answerError(what, answer);
  return true;
}

/**
 * Node's codes for a server certificate it does not trust: a setting (the store's certificate, or
 * the CA Node is given), not a fault a retry mends.
 */
const UNTRUSTED_CERTIFICATE = /^(DEPTH_ZERO_SELF_SIGNED_CERT|SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_GET_ISSUER_CERT(_LOCALLY)?|UNABLE_TO_VERIFY_LEAF_SIGNATURE|CERT_[A-Z_]+|ERR_TLS_CERT_ALTNAME_INVALID)$/;

/**
 * A request that got no answer, as a RemoteError: refused, reset or timed out, which a retry may
 * mend; or a certificate that is not trusted, a misconfiguration said with what mends it.
 */
export function requestError(what: string, error: unknown): RemoteError {
  const name = (error as Error)?.name;
  if (name === 'TimeoutError' || name === 'AbortError') return new RemoteError(`${what}: no answer in time`, true);
  const code = (error as { code?: string })?.code;
  if (code !== undefined && UNTRUSTED_CERTIFICATE.test(code)) {
    return misconfiguration(
      `${what}: the server's certificate is not trusted (${code}); if the store uses a certificate of its own or its company's CA, give that CA to Node with NODE_EXTRA_CA_CERTS=<file.pem>`,
    );
  }
  return new RemoteError(`${what}: ${code ?? (error as Error)?.message ?? String(error)}`, true);
}
