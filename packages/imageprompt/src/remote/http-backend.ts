/**
 * A shared cache on any HTTP server that answers GET and PUT under a base URL: nginx with WebDAV, a
 * bucket behind a CDN (read-only) … An optional bearer token (IMAGEPROMPT_REMOTE_TOKEN) goes in the
 * Authorization header only.
 */
import { answerError, chunksOf, fetchError, requestBody, type PutOptions, type RemoteBackend, type RemoteBody } from './remote-backend.js';

export class HttpBackend implements RemoteBackend {
  readonly label: string;
  readonly canWrite: boolean;
  private readonly base: string;

  constructor(
    url: string,
    private readonly token: string | undefined,
  ) {
    this.base = url.replace(/\/+$/, '');
    this.label = this.base;
    this.canWrite = token !== undefined;
  }

  private headers(extra: Record<string, string> = {}): Record<string, string> {
    return this.token ? { Authorization: `Bearer ${this.token}`, ...extra } : extra;
  }

  private async send(what: string, path: string, init: RequestInit): Promise<Response> {
    try {
      return await fetch(`${this.base}/${path}`, init);
    } catch (error) {
      throw fetchError(`${what} ${this.label}/${path}`, error);
    }
  }

  async get(path: string, signal: AbortSignal): Promise<RemoteBody | undefined> {
    const response = await this.send('GET', path, { headers: this.headers({ 'Accept-Encoding': 'identity' }), signal });
    if (response.status === 404) {
      await response.body?.cancel();
      return undefined;
    }
    if (!response.ok) throw await answerError(`GET ${this.label}/${path}`, response);
    const length = response.headers.get('content-length');
    return { stream: chunksOf(response.body), size: length === null ? undefined : Number(length) };
  }

  async exists(path: string, signal: AbortSignal): Promise<boolean> {
    const response = await this.send('HEAD', path, { method: 'HEAD', headers: this.headers(), signal });
    if (response.status === 404) return false;
    if (!response.ok) throw await answerError(`HEAD ${this.label}/${path}`, response);
    return true;
  }

  async put(path: string, body: Uint8Array | (() => AsyncIterable<Uint8Array>), size: number, options: PutOptions, signal: AbortSignal): Promise<boolean> {
    const headers = this.headers({ 'Content-Length': String(size), 'Content-Type': options.contentType ?? 'application/octet-stream' });
    if (options.ifAbsent) headers['If-None-Match'] = '*';
    const response = await this.send('PUT', path, { method: 'PUT', headers, body: requestBody(body), signal, duplex: 'half' } as RequestInit);
    if (response.status === 412) {
      await response.body?.cancel();
      return false;
    }
    if (!response.ok) throw await answerError(`PUT ${this.label}/${path}`, response);
    await response.body?.cancel();
    return true;
  }

  async remove(path: string, signal: AbortSignal): Promise<void> {
    const response = await this.send('DELETE', path, { method: 'DELETE', headers: this.headers(), signal });
    if (!response.ok && response.status !== 404) throw await answerError(`DELETE ${this.label}/${path}`, response);
    await response.body?.cancel();
  }
}
