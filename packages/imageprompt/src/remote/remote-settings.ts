/**
 * Which shared cache to use, and how: the `remote` option (imageprompt.config.json, plugin options,
 * `--remote`) or IMAGEPROMPT_REMOTE; IMAGEPROMPT_REMOTE_MODE; the signing key. Credentials come only
 * from the environment (the AWS SDKs' standard variables, IMAGEPROMPT_REMOTE_TOKEN), never from a file.
 */
import { UNSENDABLE, configError, withoutCredentials } from '../config/connection-checks.js';
import { DriverBackend, isStorageDriver, type StorageDriver } from './driver-backend.js';
import { HttpBackend } from './http-backend.js';
import type { RemoteBackend } from './remote-backend.js';
import { S3Backend } from './s3-backend.js';

export type RemoteMode = 'read' | 'write' | 'off';
export const REMOTE_MODES: readonly RemoteMode[] = ['read', 'write', 'off'];

export interface RemoteSettings {
  backend: RemoteBackend;
  mode: 'read' | 'write';
  signingKey: Buffer | undefined;
  /** For one whole operation; undefined for the default. */
  timeoutMs: number | undefined;
}

/** The shared cache from the option or the environment, or undefined when there is none or it is off. */
export function resolveRemote({ url: option, timeoutMs }: { url?: string | StorageDriver; timeoutMs?: number }, env: NodeJS.ProcessEnv): RemoteSettings | undefined {
  const modeText = env.IMAGEPROMPT_REMOTE_MODE || undefined;
  if (modeText !== undefined && !(REMOTE_MODES as readonly string[]).includes(modeText)) {
    throw configError('IMAGEPROMPT_REMOTE_MODE', `is "${modeText}", which is not a mode`, `use one of ${REMOTE_MODES.join(', ')}`);
  }
  const given = option ?? (env.IMAGEPROMPT_REMOTE || undefined);
  if (given === undefined || modeText === 'off') return undefined;
  const source = option !== undefined ? 'the remote option' : 'IMAGEPROMPT_REMOTE';
  const backend = typeof given === 'string' ? backendFor(given, source, env) : driverBackend(given, source);
  const mode = (modeText as 'read' | 'write' | undefined) ?? (backend.canWrite ? 'write' : 'read');
  if (mode === 'write' && backend instanceof S3Backend && !backend.canWrite) {
    throw configError('IMAGEPROMPT_REMOTE_MODE', `is "write", but there are no AWS credentials to write to ${backend.label}`, 'set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or use IMAGEPROMPT_REMOTE_MODE=read');
  }
  return { backend, mode, signingKey: signingKey(env.IMAGEPROMPT_REMOTE_SIGNING_KEY), timeoutMs };
}

function driverBackend(driver: StorageDriver, source: string): RemoteBackend {
  if (!isStorageDriver(driver)) throw configError(source, 'is an object that is not a storage driver', 'give an s3:// or http(s):// URL, or a driver with hasItem, getItemRaw, setItemRaw and getKeys (an unstorage driver)');
  return new DriverBackend(driver);
}

function backendFor(value: string, source: string, env: NodeJS.ProcessEnv): RemoteBackend {
  const shown = JSON.stringify(withoutCredentials(value));
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw configError(source, `is not a URL (${shown})`, 'use s3://<bucket>/<prefix> or an http(s):// URL');
  }
  if (url.username || url.password) {
    throw configError(source, `holds a user name or password (${shown})`, 'remove them; S3 credentials come from AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, an HTTP token from IMAGEPROMPT_REMOTE_TOKEN');
  }
  if (url.protocol === 's3:') {
    const bucket = url.hostname;
    if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(bucket)) throw configError(source, `names the bucket "${bucket}", which is not a valid bucket name`, 'use s3://<bucket>/<prefix>');
    const endpoint = env.AWS_ENDPOINT_URL_S3 || env.AWS_ENDPOINT_URL || undefined;
    if (endpoint) checkEndpoint(endpoint, env.AWS_ENDPOINT_URL_S3 ? 'AWS_ENDPOINT_URL_S3' : 'AWS_ENDPOINT_URL');
    return new S3Backend({
      bucket,
      prefix: decodeURIComponent(url.pathname).replace(/^\/+|\/+$/g, ''),
      region: env.AWS_REGION || env.AWS_DEFAULT_REGION || 'us-east-1',
      endpoint,
      accessKeyId: env.AWS_ACCESS_KEY_ID || undefined,
      secretAccessKey: env.AWS_SECRET_ACCESS_KEY || undefined,
      sessionToken: env.AWS_SESSION_TOKEN || undefined,
    });
  }
  if (url.protocol === 'http:' || url.protocol === 'https:') {
    const token = env.IMAGEPROMPT_REMOTE_TOKEN || undefined;
    if (token !== undefined && UNSENDABLE.test(token)) {
      throw configError('IMAGEPROMPT_REMOTE_TOKEN', 'holds a character that cannot be sent in an HTTP header (the token is not shown)', 'set it again without spaces or line breaks');
    }
    return new HttpBackend(url.href, token);
  }
  throw configError(source, `has the scheme "${url.protocol}" (${shown})`, 'use s3://<bucket>/<prefix> or an http(s):// URL');
}

function checkEndpoint(value: string, source: string): void {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw configError(source, `is not a URL (${JSON.stringify(withoutCredentials(value))})`, 'give the endpoint with its scheme, e.g. https://<account>.r2.cloudflarestorage.com');
  }
  if (url.username || url.password) throw configError(source, 'holds a user name or password', 'remove them; credentials come from AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY');
}

function signingKey(value: string | undefined): Buffer | undefined {
  if (!value) return undefined;
  if (value.length < 16) throw configError('IMAGEPROMPT_REMOTE_SIGNING_KEY', `is ${value.length} characters long (the key is not shown)`, 'use a random secret of at least 16 characters, e.g. `openssl rand -hex 32`');
  return Buffer.from(value, 'utf8');
}
