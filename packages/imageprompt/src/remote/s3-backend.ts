/**
 * A shared cache in an S3 bucket (AWS, R2, MinIO, Backblaze, GCS interop). Requests are signed by
 * aws4fetch's signer with the AWS SDKs' standard variables (the payload unsigned, as S3 allows, so a
 * streamed body is signed before it is read) and sent by http-exchange.ts; with a custom endpoint,
 * addressing is path-style. Without credentials requests go unsigned, which reads a public bucket.
 */
import { AwsV4Signer } from 'aws4fetch';
import { readCapped } from '../http/bounded-body.js';
import { exchange, type HttpAnswer, type HttpRequest } from '../http/http-exchange.js';
import { s3Misconfiguration } from './s3-errors.js';
import { answerError, bodyOrMiss, presenceAnswer, putAnswer, requestError, type ListedObject, type PutOptions, type RemoteBackend, type RemoteBody } from './remote-backend.js';

/** The most one page of a listing may weigh (a page names at most 1,000 objects, about 300 KB). */
const MAX_LISTING_BYTES = 4 * 1024 * 1024;

export interface S3Settings {
  bucket: string;
  prefix: string;
  region: string;
  /** A custom endpoint (path-style addressing), or undefined for AWS (virtual-hosted). */
  endpoint: string | undefined;
  accessKeyId: string | undefined;
  secretAccessKey: string | undefined;
  sessionToken: string | undefined;
}

export class S3Backend implements RemoteBackend {
  readonly label: string;
  readonly canWrite: boolean;
  private readonly root: string;
  /** Signing keys derived for a day and region, kept by the signer between requests. */
  private readonly signingKeys = new Map<string, ArrayBuffer>();

  constructor(private readonly settings: S3Settings) {
    const { bucket, prefix, region, endpoint } = settings;
    this.root = endpoint ? `${endpoint.replace(/\/+$/, '')}/${bucket}` : `https://${bucket}.s3.${region}.amazonaws.com`;
    this.label = `s3://${bucket}${prefix ? `/${prefix}` : ''}`;
    this.canWrite = Boolean(settings.accessKeyId && settings.secretAccessKey);
  }

  private url(path: string, query = ''): string {
    const key = [this.settings.prefix, path].filter(Boolean).join('/');
    return `${this.root}/${key.split('/').map(encodeURIComponent).join('/')}${query}`;
  }

  /** Sends one request; an answer that shows the settings wrong (see s3-errors.ts) throws a misconfiguration. */
  private async send(what: string, url: string, request: HttpRequest): Promise<HttpAnswer> {
    let answer: HttpAnswer;
    try {
      // S3 clients never follow a redirect (nor does http-exchange.ts): the signed headers (the
      // session token among them) stay with S3
      answer = await exchange(url, { ...request, headers: await this.sign(url, request) });
    } catch (error) {
      throw requestError(`${what} ${this.label}`, error);
    }
    const write = request.method === 'PUT' || request.method === 'DELETE';
    const problem = await s3Misconfiguration(answer, this.settings, write);
    if (problem) {
      await answer.discard();
      throw problem;
    }
    return answer;
  }

  /** The request's headers, signed when there are credentials. */
  private async sign(url: string, request: HttpRequest): Promise<Record<string, string>> {
    const { accessKeyId, secretAccessKey, sessionToken, region } = this.settings;
    if (!accessKeyId || !secretAccessKey) return request.headers ?? {};
    const signer = new AwsV4Signer({
      method: request.method,
      url,
      headers: request.headers ?? {},
      accessKeyId,
      secretAccessKey,
      ...(sessionToken ? { sessionToken } : {}),
      service: 's3',
      region,
      cache: this.signingKeys,
    });
    return Object.fromEntries((await signer.sign()).headers);
  }

  async get(path: string, signal: AbortSignal): Promise<RemoteBody | undefined> {
    return bodyOrMiss(`GET ${this.label}/${path}`, await this.send(`GET ${path} from`, this.url(path), { method: 'GET', signal }));
  }

  async exists(path: string, signal: AbortSignal): Promise<boolean> {
    return presenceAnswer(`HEAD ${this.label}/${path}`, await this.send(`HEAD ${path} on`, this.url(path), { method: 'HEAD', signal }));
  }

  async put(path: string, body: Uint8Array | (() => AsyncIterable<Uint8Array>), size: number, options: PutOptions, signal: AbortSignal): Promise<boolean> {
    const headers: Record<string, string> = { 'Content-Length': String(size), 'Content-Type': options.contentType ?? 'application/octet-stream' };
    if (options.ifAbsent) headers['If-None-Match'] = '*';
    return putAnswer(`PUT ${this.label}/${path}`, await this.send(`PUT ${path} to`, this.url(path), { method: 'PUT', headers, body, signal }));
  }

  async remove(path: string, signal: AbortSignal): Promise<void> {
    await presenceAnswer(`DELETE ${this.label}/${path}`, await this.send(`DELETE ${path} from`, this.url(path), { method: 'DELETE', signal }));
  }

  /** ListObjectsV2 under `<prefix>/<folder>/`, every page. */
  async list(folder: string, signal: AbortSignal): Promise<ListedObject[]> {
    const base = [this.settings.prefix, folder].filter(Boolean).join('/') + '/';
    const strip = this.settings.prefix ? `${this.settings.prefix}/` : '';
    const keys: ListedObject[] = [];
    let token: string | undefined;
    do {
      const query = `?list-type=2&prefix=${encodeURIComponent(base)}${token ? `&continuation-token=${encodeURIComponent(token)}` : ''}`;
      const answer = await this.send(`LIST ${folder} in`, `${this.root}/${query}`, { method: 'GET', signal });
      if (!answer.ok) throw await answerError(`LIST ${this.label}/${folder}`, answer);
      const xml = (await readCapped(answer.body, MAX_LISTING_BYTES, `LIST ${this.label}/${folder}`)).toString('utf8');
      for (const [contents] of xml.matchAll(/<Contents>[\s\S]*?<\/Contents>/g)) {
        const key = /<Key>([^<]*)<\/Key>/.exec(contents)?.[1];
        if (key === undefined) continue;
        const modified = Date.parse(/<LastModified>([^<]*)<\/LastModified>/.exec(contents)?.[1] ?? '');
        keys.push({ path: unescapeXml(key).slice(strip.length), ...(Number.isNaN(modified) ? {} : { modifiedMs: modified }) });
      }
      token = /<IsTruncated>true<\/IsTruncated>/.test(xml) ? unescapeXml(/<NextContinuationToken>([^<]*)<\/NextContinuationToken>/.exec(xml)?.[1] ?? '') || undefined : undefined;
    } while (token);
    return keys;
  }
}

function unescapeXml(text: string): string {
  return text.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&apos;/g, "'").replace(/&amp;/g, '&');
}
