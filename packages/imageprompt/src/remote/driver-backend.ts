/**
 * A shared cache on any storage-library driver given in a JS config: an unstorage driver (or
 * storage) is used as it is, so other backends need no change here. Keys are the object paths with
 * `:` for `/`, as unstorage writes them.
 */
import type { ListedObject, PutOptions, RemoteBackend, RemoteBody } from './remote-backend.js';

/** The part of unstorage's driver (and storage) interface the shared cache uses. */
export interface StorageDriver {
  name?: string;
  hasItem(key: string, options?: unknown): boolean | Promise<boolean>;
  getItemRaw?(key: string, options?: unknown): unknown;
  setItemRaw?(key: string, value: unknown, options?: unknown): void | Promise<void>;
  removeItem?(key: string, options?: unknown): void | Promise<void>;
  getKeys(base?: string, options?: unknown): string[] | Promise<string[]>;
  getMeta?(key: string, options?: unknown): unknown;
}

export function isStorageDriver(value: unknown): value is StorageDriver {
  const v = value as StorageDriver;
  return typeof v === 'object' && v !== null && typeof v.hasItem === 'function' && typeof v.getItemRaw === 'function' && typeof v.getKeys === 'function';
}

const toKey = (path: string) => path.split('/').join(':');

export class DriverBackend implements RemoteBackend {
  readonly label: string;
  readonly canWrite: boolean;

  constructor(private readonly driver: StorageDriver) {
    this.label = `storage driver${driver.name ? ` "${driver.name}"` : ''}`;
    this.canWrite = typeof driver.setItemRaw === 'function';
  }

  async get(path: string): Promise<RemoteBody | undefined> {
    const raw = await this.driver.getItemRaw!(toKey(path));
    if (raw === null || raw === undefined) return undefined;
    const bytes = raw instanceof Uint8Array ? raw : typeof raw === 'string' ? new TextEncoder().encode(raw) : new Uint8Array(raw as ArrayBuffer);
    return { stream: (async function* () { yield bytes; })(), size: bytes.length };
  }

  async exists(path: string): Promise<boolean> {
    return Boolean(await this.driver.hasItem(toKey(path)));
  }

  async put(path: string, body: Uint8Array | (() => AsyncIterable<Uint8Array>), _size: number, options: PutOptions): Promise<boolean> {
    if (options.ifAbsent && (await this.exists(path))) return false;
    let bytes: Uint8Array;
    if (body instanceof Uint8Array) bytes = body;
    else {
      const parts: Uint8Array[] = [];
      for await (const part of body()) parts.push(part);
      bytes = Buffer.concat(parts);
    }
    await this.driver.setItemRaw!(toKey(path), bytes);
    return true;
  }

  async remove(path: string): Promise<void> {
    await this.driver.removeItem?.(toKey(path));
  }

  /** Paths under the folder, each with its modification time where the driver keeps one (`getMeta().mtime`). */
  async list(folder: string): Promise<ListedObject[]> {
    const keys = await this.driver.getKeys(folder);
    const paths = keys.map((k) => k.split(':').join('/')).filter((k) => k.startsWith(`${folder}/`));
    return Promise.all(
      paths.map(async (path) => {
        const meta = (await this.driver.getMeta?.(toKey(path))) as { mtime?: unknown } | undefined;
        const modified = meta?.mtime instanceof Date ? meta.mtime.getTime() : typeof meta?.mtime === 'number' || typeof meta?.mtime === 'string' ? new Date(meta.mtime).getTime() : NaN;
        return Number.isNaN(modified) ? { path } : { path, modifiedMs: modified };
      }),
    );
  }
}
