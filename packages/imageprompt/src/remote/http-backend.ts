/**
 * A shared cache on any HTTP server that answers GET and PUT under a base URL: nginx with WebDAV, a
 * bucket behind a CDN (read-only) … An optional bearer token (IMAGEPROMPT_REMOTE_TOKEN) goes in the
 * Authorization header only.
 */
import { checkCredentialTransport } from '../config/connection-checks.js';
import { exchange, type HttpAnswer, type HttpRequest } from '../http/http-exchange.js';
import { bodyOrMiss, misconfiguration, presenceAnswer, putAnswer, requestError, type PutOptions, type RemoteBackend, type RemoteBody } from './remote-backend.js';

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

  private async send(path: string, request: HttpRequest): Promise<HttpAnswer> {
    try {
      // a redirect is never followed (see http-exchange.ts): the token goes to this base URL only
      return await exchange(`${this.base}/${path}`, request);
    } catch (error) {
      throw requestError(`${request.method} ${this.label}/${path}`, error);
    }
  }

  async get(path: string, signal: AbortSignal): Promise<RemoteBody | undefined> {
    const answer = await this.send(path, { method: 'GET', headers: this.headers({ 'Accept-Encoding': 'identity' }), signal });
    // a read refused is a setting every read shares: said once, as such
    if (answer.status === 401 || answer.status === 403) {
      await answer.discard();
      const why = this.token ? 'does not accept the token in IMAGEPROMPT_REMOTE_TOKEN' : 'wants a token, and IMAGEPROMPT_REMOTE_TOKEN is not set';
      throw misconfiguration(`${this.label} refused a read with HTTP ${answer.status}: it ${why}`, answer.status);
    }
    return bodyOrMiss(`GET ${this.label}/${path}`, answer);
  }

  async exists(path: string, signal: AbortSignal): Promise<boolean> {
    return presenceAnswer(`HEAD ${this.label}/${path}`, await this.send(path, { method: 'HEAD', headers: this.headers(), signal }));
  }

  async put(path: string, body: Uint8Array | (() => AsyncIterable<Uint8Array>), size: number, options: PutOptions, signal: AbortSignal): Promise<boolean> {
    const headers = this.headers({ 'Content-Length': String(size), 'Content-Type': options.contentType ?? 'application/octet-stream' });
    if (options.ifAbsent) headers['If-None-Match'] = '*';
    const attempt = () => this.send(path, { method: 'PUT', headers, body, signal });
    let answer = await attempt();
    // a strict WebDAV server (Apache's mod_dav) answers 409 when the folder does not exist yet: the
    // folders are made (MKCOL) and the object put again (a stream body is made anew). Another machine
    // may be making the same folders at the same moment, so this is tried a few times.
    for (let round = 0; answer.status === 409 && round < 3; round++) {
      await answer.discard();
      await this.makeFolders(path, signal);
      answer = await attempt();
    }
    return putAnswer(`PUT ${this.label}/${path}`, answer);
  }

  /** Makes the base URL's folder and each folder of `path` that is not known to exist. */
  private async makeFolders(path: string, signal: AbortSignal): Promise<void> {
    const parts = path.split('/').slice(0, -1);
    const folders = ['', ...parts.map((_, i) => parts.slice(0, i + 1).join('/'))];
    for (const folder of folders) {
      if (this.folders.has(folder)) continue;
      const answer = await this.send(folder ? `${folder}/` : '', { method: 'MKCOL', headers: this.headers(), signal });
      await answer.discard();
      // 201: made; 405: it exists already; anything else (made by someone else meanwhile, or not
      // allowed) is for the PUT that follows to say
      if (answer.status === 201 || answer.status === 405) this.folders.add(folder);
    }
  }

  async remove(path: string, signal: AbortSignal): Promise<void> {
    await presenceAnswer(`DELETE ${this.label}/${path}`, await this.send(path, { method: 'DELETE', headers: this.headers(), signal }));
  }
}
