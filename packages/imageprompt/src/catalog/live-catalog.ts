/**
 * Venice's live catalog (public routes: `GET /models?type=image`, `?type=inpaint` for edit models,
 * `?type=upscale` for the upscaler's prices, and `GET /image/styles`), optionally
 * kept on disk for an hour: Venice's catalog changes within months, so hours is the right age, and
 * builds need not ask for it every time.
 */
import { mkdir, readFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { writeFileAtomic } from '../cache/atomic-file.js';
import { ModelCatalog, type ModelsResponseEntry } from './model-catalog.js';

const MAX_AGE_MS = 60 * 60_000;

interface CatalogData {
  models: ModelsResponseEntry[];
  styles: string[];
}

interface Stored extends CatalogData {
  baseURL: string;
  fetchedAt: number;
}

async function fetchCatalogData(baseURL: string): Promise<CatalogData | undefined> {
  const base = baseURL.replace(/\/+$/, '');
  try {
    const [models, styles, edits, upscalers] = await Promise.all(
      [`${base}/models?type=image`, `${base}/image/styles`, `${base}/models?type=inpaint`, `${base}/models?type=upscale`].map(async (url) => {
        const response = await fetch(url, { signal: AbortSignal.timeout(10_000) });
        return response.ok ? ((await response.json()) as unknown) : undefined;
      }),
    );
    const list = (answer: unknown) => (answer as { data?: ModelsResponseEntry[] } | undefined)?.data;
    const images = list(models);
    // edit models and the upscaler are their own types; without them the bundled ones serve
    const entries = Array.isArray(images) ? [...images, ...[list(edits), list(upscalers)].flatMap((more) => (Array.isArray(more) ? more : []))] : undefined;
    // the styles route has been documented both as an envelope and as a bare array
    const names = Array.isArray(styles) ? (styles as string[]) : (styles as { data?: string[] } | undefined)?.data;
    return Array.isArray(entries) && Array.isArray(names) ? { models: entries, styles: names } : undefined;
  } catch {
    return undefined;
  }
}

const toCatalog = (data: CatalogData, baseURL: string) =>
  ModelCatalog.fromEntries(data.models, data.styles, `${baseURL.replace(/\/+$/, '')}/models?type=image`, ModelCatalog.bundled());

/** The live catalog, or undefined when it cannot be had. */
export async function fetchLiveCatalog(baseURL: string): Promise<ModelCatalog | undefined> {
  const data = await fetchCatalogData(baseURL);
  return data && toCatalog(data, baseURL);
}

/** The live catalog, from `file` when fetched from the same base URL within the hour. */
export async function loadLiveCatalog(baseURL: string, file: string): Promise<ModelCatalog | undefined> {
  try {
    const stored = JSON.parse(await readFile(file, 'utf8')) as Stored;
    if (stored.baseURL === baseURL && Date.now() - stored.fetchedAt < MAX_AGE_MS) return toCatalog(stored, baseURL);
  } catch {
    // nothing stored yet, or unreadable: fetch
  }
  const data = await fetchCatalogData(baseURL);
  if (!data) return undefined;
  try {
    await mkdir(dirname(file), { recursive: true });
    await writeFileAtomic(file, JSON.stringify({ ...data, baseURL, fetchedAt: Date.now() } satisfies Stored));
  } catch {
    // a read-only disk costs a fetch next time, nothing more
  }
  return toCatalog(data, baseURL);
}
