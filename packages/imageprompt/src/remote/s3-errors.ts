/**
 * What an S3 answer says about the settings. S3 names its errors in an XML body (`<Code>`), and
 * names a bucket's region in the `x-amz-bucket-region` header; a few of its answers mean that no
 * operation can succeed as configured, and they are said in one line with the setting to change:
 *
 * - `NoSuchBucket` (404): the bucket in `IMAGEPROMPT_REMOTE` does not exist at this endpoint;
 * - `PermanentRedirect` (301), `AuthorizationHeaderMalformed` or `IllegalLocationConstraintException`
 *   (400) naming another region: `AWS_REGION` is not the bucket's;
 * - `InvalidAccessKeyId`, `SignatureDoesNotMatch`, `ExpiredToken`, `InvalidToken` (403 or 400): the
 *   credentials are not the store's;
 * - `AccessDenied` (403) on a read: these credentials may not read the bucket. On a write it is a
 *   read-only key, which the shared cache handles as refused uploads (images stay local).
 *
 * An answer that is none of these is left to the generic handling (a 404 NoSuchKey is a miss).
 */
import { MAX_ERROR_BODY_BYTES, safeServerText } from '../http/bounded-body.js';
import type { HttpAnswer } from '../http/http-exchange.js';
import { misconfiguration, type RemoteError } from './remote-backend.js';

const CREDENTIAL_CODES: Record<string, string> = {
  InvalidAccessKeyId: 'the access key id in AWS_ACCESS_KEY_ID is not known to this store',
  SignatureDoesNotMatch: 'AWS_SECRET_ACCESS_KEY does not belong to the access key id in AWS_ACCESS_KEY_ID',
  ExpiredToken: 'the session token in AWS_SESSION_TOKEN has expired',
  InvalidToken: 'the session token in AWS_SESSION_TOKEN is not valid',
  TokenRefreshRequired: 'the session token in AWS_SESSION_TOKEN must be refreshed',
};
const REGION_CODES = new Set(['PermanentRedirect', 'AuthorizationHeaderMalformed', 'IllegalLocationConstraintException']);

export interface S3Context {
  bucket: string;
  region: string;
  /** A custom endpoint (R2, MinIO …): region mistakes there are the endpoint's. */
  endpoint: string | undefined;
}

/**
 * Reads the answer's error (only for statuses that can carry a misconfiguration) and returns the
 * misconfiguration it names, or undefined for the usual handling, which needs only the status: the
 * body of such an answer is spent here.
 */
export async function s3Misconfiguration(answer: HttpAnswer, context: S3Context, write: boolean): Promise<RemoteError | undefined> {
  const status = answer.status;
  if (![301, 307, 400, 403, 404].includes(status)) return undefined;
  const headerRegion = answer.header('x-amz-bucket-region');
  // HEAD answers carry no body: the region header is all they say
  const xml = await answer.prefix(MAX_ERROR_BODY_BYTES);
  const code = tag(xml, 'Code');
  const { bucket, region } = context;
  if (code === 'NoSuchBucket') {
    return misconfiguration(`the bucket "${bucket}" does not exist${context.endpoint ? ` at ${context.endpoint}` : ''} (NoSuchBucket): check the bucket in IMAGEPROMPT_REMOTE${context.endpoint ? ' and the endpoint' : ''}`, status);
  }
  const otherRegion = tag(xml, 'Region') ?? headerRegion;
  if ((code !== undefined && REGION_CODES.has(code)) || (status === 301 && otherRegion)) {
    const where = otherRegion && otherRegion !== region ? `is in region ${otherRegion}, not ${region}: set AWS_REGION=${otherRegion}` : `is not in region ${region}: set AWS_REGION to the bucket's region`;
    return misconfiguration(`the bucket "${bucket}" ${safeServerText(where, [], 120)} (${code ?? `HTTP ${status}`})`, status);
  }
  if (code !== undefined && code in CREDENTIAL_CODES) {
    return misconfiguration(`${CREDENTIAL_CODES[code]} (${code}): set credentials that may use s3://${bucket}`, status);
  }
  if (status === 403 && !write) {
    return misconfiguration(`these credentials may not read s3://${bucket} (${code ?? 'HTTP 403'}): give the key read access to the bucket, or set other credentials`, status);
  }
  return undefined;
}

function tag(xml: string, name: string): string | undefined {
  const value = new RegExp(`<${name}>([^<]{1,200})</${name}>`).exec(xml)?.[1];
  return value === undefined ? undefined : safeServerText(value, [], 80);
}
