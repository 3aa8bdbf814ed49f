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
  /** Folders known to exist on a WebDAV server that wants them made (see `put`). */
  private readonly folders = new Set<string>();

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
    const attempt = () => this.send('PUT', path, { method: 'PUT', headers, body: requestBody(body), signal, duplex: 'half' } as RequestInit);
    let response = await attempt();
    // a strict WebDAV server (Apache's mod_dav) answers 409 when the folder does not exist yet: the
    // folders are made (MKCOL) and the object put again (a stream body is made anew). Another machine
    // may be making the same folders at the same moment, so this is tried a few times.
    for (let round = 0; response.status === 409 && round < 3; round++) {
      await response.body?.cancel().catch(() => undefined);
      await this.makeFolders(path, signal);
      response = await attempt();
    }
    return putAnswer(`PUT ${this.label}/${path}`, response);
  }

  /** Makes the base URL's folder and each folder of `path` that is not known to exist. */
  private async makeFolders(path: string, signal: AbortSignal): Promise<void> {
    const parts = path.split('/').slice(0, -1);
    const folders = ['', ...parts.map((_, i) => parts.slice(0, i + 1).join('/'))];
    for (const folder of folders) {
      if (this.folders.has(folder)) continue;
      const response = await this.send('MKCOL', folder ? `${folder}/` : '', { method: 'MKCOL', headers: this.headers(), signal });
      await response.body?.cancel().catch(() => undefined);
      // 201: made; 405: it exists already; anything else (made by someone else meanwhile, or not
      // allowed) is for the PUT that follows to say
      if (response.status === 201 || response.status === 405) this.folders.add(folder);
    }
  }

  async remove(path: string, signal: AbortSignal): Promise<void> {
    await presenceAnswer(`DELETE ${this.label}/${path}`, await this.send('DELETE', path, { method: 'DELETE', headers: this.headers(), signal }));
  }
}
