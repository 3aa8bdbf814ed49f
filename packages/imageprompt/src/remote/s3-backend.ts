/**
 * A shared cache in an S3 bucket (AWS, R2, MinIO, Backblaze, GCS interop). Requests are signed by
 * aws4fetch with the AWS SDKs' standard variables; with a custom endpoint, addressing is path-style.
 * Without credentials requests go unsigned, which reads a public bucket.
 */
import { AwsClient } from 'aws4fetch';
import { s3Misconfiguration } from './s3-errors.js';
import { answerError, bodyOrMiss, fetchError, presenceAnswer, putAnswer, requestBody, type ListedObject, type PutOptions, type RemoteBackend, type RemoteBody } from './remote-backend.js';

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
  private readonly client: AwsClient | undefined;
  private readonly root: string;

  constructor(private readonly settings: S3Settings) {
    const { bucket, prefix, region, endpoint } = settings;
    this.root = endpoint ? `${endpoint.replace(/\/+$/, '')}/${bucket}` : `https://${bucket}.s3.${region}.amazonaws.com`;
    this.label = `s3://${bucket}${prefix ? `/${prefix}` : ''}`;
    this.canWrite = Boolean(settings.accessKeyId && settings.secretAccessKey);
    this.client = this.canWrite
      ? new AwsClient({
          accessKeyId: settings.accessKeyId!,
          secretAccessKey: settings.secretAccessKey!,
          ...(settings.sessionToken ? { sessionToken: settings.sessionToken } : {}),
          service: 's3',
          region,
          retries: 0,
        })
      : undefined;
  }

  private url(path: string, query = ''): string {
    const key = [this.settings.prefix, path].filter(Boolean).join('/');
    return `${this.root}/${key.split('/').map(encodeURIComponent).join('/')}${query}`;
  }

  /** Sends one request; an answer that shows the settings wrong (see s3-errors.ts) throws a misconfiguration. */
  private async send(what: string, url: string, init: RequestInit): Promise<Response> {
    let response: Response;
    try {
      // S3 clients never follow a redirect: the signed headers (the session token among them) stay with S3
      const request = this.client ? await this.client.sign(url, { ...init, redirect: 'manual' }) : new Request(url, { ...init, redirect: 'manual' });
      response = await fetch(request, { signal: init.signal ?? null, redirect: 'manual' });
    } catch (error) {
      throw fetchError(`${what} ${this.label}`, error);
    }
    const write = init.method === 'PUT' || init.method === 'DELETE';
    const problem = await s3Misconfiguration(response, this.settings, write);
    if (problem) {
      await response.body?.cancel().catch(() => undefined);
      throw problem;
    }
    return response;
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
    const response = await this.send(`PUT ${path} to`, this.url(path), { method: 'PUT', headers, body: requestBody(body), signal, duplex: 'half' } as RequestInit);
    return putAnswer(`PUT ${this.label}/${path}`, response);
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
      const response = await this.send(`LIST ${folder} in`, `${this.root}/${query}`, { method: 'GET', signal });
      if (!response.ok) throw await answerError(`LIST ${this.label}/${folder}`, response);
      const xml = await response.text();
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
