/**
 * A shared cache on any HTTP server that answers GET and PUT under a base URL: nginx with WebDAV, a
 * bucket behind a CDN (read-only) … An optional bearer token (IMAGEPROMPT_REMOTE_TOKEN) goes in the
 * Authorization header only.
 */
import { checkCredentialTransport } from '../config/connection-checks.js';
import { bodyOrMiss, fetchError, misconfiguration, presenceAnswer, putAnswer, requestBody, type PutOptions, type RemoteBackend, type RemoteBody } from './remote-backend.js';

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
    if (token !== undefined) checkCredentialTransport(this.base, 'IMAGEPROMPT_REMOTE_TOKEN');
  }

  private headers(extra: Record<string, string> = {}): Record<string, string> {
    return this.token ? { Authorization: `Bearer ${this.token}`, ...extra } : extra;
  }

  private async send(what: string, path: string, init: RequestInit): Promise<Response> {
    try {
      // a redirect is not followed: the token goes to this base URL only
      return await fetch(`${this.base}/${path}`, { ...init, redirect: 'manual' });
    } catch (error) {
      throw fetchError(`${what} ${this.label}/${path}`, error);
    }
  }

  async get(path: string, signal: AbortSignal): Promise<RemoteBody | undefined> {
    const response = await this.send('GET', path, { headers: this.headers({ 'Accept-Encoding': 'identity' }), signal });
    // a read refused is a setting every read shares: said once, as such
    if (response.status === 401 || response.status === 403) {
      await response.body?.cancel().catch(() => undefined);
      const why = this.token ? 'does not accept the token in IMAGEPROMPT_REMOTE_TOKEN' : 'wants a token, and IMAGEPROMPT_REMOTE_TOKEN is not set';
      throw misconfiguration(`${this.label} refused a read with HTTP ${response.status}: it ${why}`, response.status);
    }
    return bodyOrMiss(`GET ${this.label}/${path}`, response);
  }

  async exists(path: string, signal: AbortSignal): Promise<boolean> {
    return presenceAnswer(`HEAD ${this.label}/${path}`, await this.send('HEAD', path, { method: 'HEAD', headers: this.headers(), signal }));
  }

  async put(path: string, body: Uint8Array | (() => AsyncIterable<Uint8Array>), size: number, options: PutOptions, signal: AbortSignal): Promise<boolean> {
    const headers = this.headers({ 'Content-Length': String(size), 'Content-Type': options.contentType ?? 'application/octet-stream' });
    if (options.ifAbsent) headers['If-None-Match'] = '*';
    const response = await this.send('PUT', path, { method: 'PUT', headers, body: requestBody(body), signal, duplex: 'half' } as RequestInit);
    return putAnswer(`PUT ${this.label}/${path}`, response);
  }

  async remove(path: string, signal: AbortSignal): Promise<void> {
    await presenceAnswer(`DELETE ${this.label}/${path}`, await this.send('DELETE', path, { method: 'DELETE', headers: this.headers(), signal }));
  }
}
