/**
 * What this machine has already verified, so that a cache hit costs what an image import costs: one
 * read of the prompt file and a few stats, instead of parsing, validating and normalising the prompt
 * file, reading and checking the manifest, and hashing every byte of every image on every build.
 *
 * As git's index and ccache's direct mode do, it remembers, per prompt file: the sha256 of the
 * file's bytes, the request key they led to under these settings, and the stamp (size, mtime,
 * inode) of the entry's manifest and of each image as they were when last verified whole. A hit is
 * served from it only while all of those are unchanged; anything else (an edited prompt file, other
 * settings, a manifest or blob written since) falls back to the full path, which verifies again.
 *
 * The prompt file itself is read and hashed only when its stamp differs from the one recorded with
 * its digest, or when that stamp is "racy" as git calls it: written within two seconds of being
 * recorded, when an edit of the same size in the same millisecond could hide behind it. Such a stamp
 * is recorded again once it is old enough, so that the next build only stats the file.
 *
 * It lives beside the placeholders (`node_modules/.cache/imageprompt/hit-index-<settings>.json`, one
 * file per set of settings, so that a build and the command, whose settings differ, keep their own;
 * the eight most recently written are kept), never in the cache directory: it is this machine's
 * memory, not something to commit or share. Frozen builds and `imageprompt check --verify` do not
 * use it: they verify every byte.
 */
import { readFileSync, statSync, type Stats } from 'node:fs';
import { mkdir, readdir, rm, stat } from 'node:fs/promises';
import { basename, dirname, isAbsolute, join, resolve } from 'node:path';
import { writeFileAtomic } from './atomic-file.js';
import type { ImageMetadata } from '../images/image-metadata.js';
import { CONFIG_FILE_NAME } from '../config/config-file-name.js';
import { CATALOG_DATE } from '../catalog/catalog-date.js';
import { canonicalJson, KEY_RECIPE_VERSION, sha256Hex as sha256 } from '../prompt/request-key.js';
import { IMAGE_FORMATS, type ImageFormat } from '../images/image-formats.js';
import { UNSENDABLE } from '../config/connection-checks.js';
import { BASE64, BLUR_DATA_URL, HEX_COLOR, MAX_BLUR_DATA_URL, MAX_THUMBHASH, SHA256_HEX } from './metadata-shape.js';
import { isResponsiveSpec, type ResponsiveSpec } from '../images/responsive-spec.js';
import { derivativeDir } from '../images/derivatives.js';
import type { ChainStep } from '../engine/chain-runner.js';

const INDEX_VERSION = 3;
const INDEX_PREFIX = 'hit-index-';
/** Index files kept: one per set of settings in recent use (a build, the command, a second config). */
const INDEXES_KEPT = 8;

/** A stamp this close to when it was recorded is trusted only after the bytes are hashed (see above). */
const RACY_MS = 2000;

/**
 * Size, modification time, inode and change time: what changes when a file is written. The change
 * time cannot be set back by a tool that copies a modification time onto a file (`cp -p`, `rsync -t`).
 */
export type Stamp = [size: number, mtimeMs: number, ino: number, ctimeMs: number];

/** A chain's link as the import lists it (engine/chain-runner.ts). */
export interface IndexedStep {
  key: string | null;
  route: ChainStep['route'];
  label: string;
  width: number;
  height: number;
  format: ImageFormat;
  status: 'cached' | 'generated' | 'placeholder' | 'missing';
}

export interface IndexedImage {
  path: string;
  format: ImageFormat;
  width: number;
  height: number;
  digest: string;
  meta?: ImageMetadata;
  stamp: Stamp;
}

export interface HitRecord {
  /** sha256 of the prompt file's bytes. */
  source: string;
  /** The prompt file's stamp when `source` was taken from its bytes, and when that was (epoch ms). */
  sourceStamp: Stamp;
  recordedAt: number;
  key: string;
  alt: string | null;
  /** The prompt file's `responsive` field as the import uses it, or null. */
  responsive: ResponsiveSpec | null;
  seed: number;
  /** What preparing the prompt file warned about, said again on each hit. */
  warnings: string[];
  /** A chain's links, as the import lists them. */
  steps?: IndexedStep[];
  /** Committed images the prompt file starts from, with their stamps when they were hashed. */
  inputs?: { path: string; stamp: Stamp }[];
  manifest: Stamp;
  images: IndexedImage[];
}

interface IndexFile {
  version: typeof INDEX_VERSION;
  settings: string;
  files: Record<string, HitRecord>;
}

// to the millisecond: what tools that copy a time keep (finer parts differ between file systems)
export const stampOf = (info: Stats): Stamp => [info.size, Math.trunc(info.mtimeMs), info.ino, Math.trunc(info.ctimeMs)];
export const sameStamp = (a: Stamp, b: Stamp) => a[0] === b[0] && a[1] === b[1] && a[2] === b[2] && a[3] === b[3];
/** Written so close to `recordedAt` (or after it) that an edit of the same size could share its stamp. */
const isRacy = (stamp: Stamp, recordedAt: number) => stamp[1] > recordedAt - RACY_MS;

/** Options that are secrets or no data (a logger, a storage driver): in the digest only as what they are. */
const NOT_SETTINGS = new Set(['apiKey', 'siwx', 'walletPrivateKey', 'logger', 'remote', 'context']);

/** Variables the engine reads that hold secrets: in the digest only as their kind, never their value. */
const SECRET_VARIABLES = ['VENICE_API_KEY', 'VENICE_SIWX', 'VENICE_WALLET_PRIVATE_KEY', 'IMAGEPROMPT_REMOTE_TOKEN', 'IMAGEPROMPT_REMOTE_SIGNING_KEY', 'AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN'];
/** Variables the engine reads that hold no secret. */
const PLAIN_VARIABLES = ['IMAGEPROMPT_CACHE_DIR', 'IMAGEPROMPT_MODE', 'VENICE_BASE_URL', 'IMAGEPROMPT_REMOTE', 'IMAGEPROMPT_REMOTE_MODE', 'AWS_ENDPOINT_URL_S3', 'AWS_ENDPOINT_URL', 'AWS_REGION', 'AWS_DEFAULT_REGION'];

/**
 * What the engine's checks can tell of a secret, without the secret: absent, sendable in a header or
 * not, shorter than a signing key may be. Settings that differ in this differ in the digest.
 */
function secretKind(value: unknown): string {
  if (value === undefined || value === '') return 'none';
  if (typeof value !== 'string') return 'not text';
  return UNSENDABLE.test(value) ? 'unsendable' : value.length < 16 ? 'short' : 'long';
}

export interface HitSettings {
  /** A digest of everything that can change which key a prompt file's bytes lead to, or what a hit exports. */
  digest: string;
  /** Frozen builds verify every byte: they never use the index. */
  frozen: boolean;
  cacheDir: string;
  /** Where the index file is: beside the placeholders. */
  indexPath: string;
  /** Where responsive derivatives are kept: beside the placeholders too. */
  derivativesDir: string;
}

/**
 * The hit index's settings, from the settings as given (the options in code, the config file's
 * bytes, the environment), not as resolved: what was validated when a record was made is validated
 * again only if any of it changed, so a hit needs neither the schema library nor the engine.
 */
export function hitSettings(root: string, options: Record<string, unknown>, env: NodeJS.ProcessEnv): HitSettings {
  let configText = '';
  try {
    configText = readFileSync(join(root, CONFIG_FILE_NAME), 'utf8');
  } catch {
    // no config file
  }
  let config: Record<string, unknown> = {};
  try {
    const parsed = configText ? (JSON.parse(configText) as unknown) : {};
    if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)) config = parsed as Record<string, unknown>;
  } catch {
    // an invalid file: its bytes are in the digest, and the engine reports it
  }
  const given = Object.fromEntries(Object.entries(options).filter(([name, value]) => value !== undefined && !NOT_SETTINGS.has(name) && typeof value !== 'function'));
  const remote = options.remote as { url?: unknown; timeoutMs?: unknown } | string | undefined;
  const remoteGiven =
    remote === undefined || typeof remote === 'string'
      ? (remote ?? null)
      : { url: typeof remote.url === 'string' || remote.url === undefined ? (remote.url ?? null) : 'a storage driver', timeoutMs: remote.timeoutMs ?? null, driver: !('url' in remote) && !('timeoutMs' in remote) };
  // the variables each provider's key is read from, named by the options or the config file
  const providerVariables = [options.providers, config.providers].flatMap((providers) =>
    typeof providers === 'object' && providers !== null ? Object.values(providers as Record<string, { apiKeyEnv?: unknown }>).map((p) => String(p?.apiKeyEnv)) : [],
  );
  const mode = env.IMAGEPROMPT_MODE || options.mode || config.mode;
  const cacheDirSetting = String(options.cacheDir ?? config.cacheDir ?? (env.IMAGEPROMPT_CACHE_DIR || '.imageprompt'));
  const placeholderDir = typeof options.placeholderDir === 'string' ? options.placeholderDir : resolve(root, 'node_modules', '.cache', 'imageprompt', 'placeholders');
  let optionsGiven: unknown;
  try {
    optionsGiven = JSON.parse(JSON.stringify(given));
  } catch {
    // not data (a value JSON cannot hold): settings no index record can match
    optionsGiven = { unmatchable: Math.random() };
  }
  const digest = sha256(
    Buffer.from(
      canonicalJson({
        index: INDEX_VERSION,
        recipe: KEY_RECIPE_VERSION,
        catalog: CATALOG_DATE,
        root,
        options: optionsGiven,
        // Venice's live catalog, where a build with a key fetched it: its models' rules enter keys
        liveCatalog: liveCatalogDigest(join(placeholderDir, '..', 'catalog.json')),
        secrets: { apiKey: secretKind(options.apiKey), siwx: secretKind(options.siwx), walletPrivateKey: secretKind(options.walletPrivateKey) },
        remote: remoteGiven,
        config: configText,
        env: Object.fromEntries([
          ...PLAIN_VARIABLES.map((name) => [name, env[name] ?? null]),
          ...[...SECRET_VARIABLES, ...providerVariables].map((name) => [name, secretKind(env[name])]),
        ]),
      }),
    ),
  );
  return {
    digest,
    frozen: mode === 'frozen',
    cacheDir: isAbsolute(cacheDirSetting) ? cacheDirSetting : resolve(root, cacheDirSetting),
    indexPath: join(placeholderDir, '..', indexFileName(digest)),
    derivativesDir: derivativeDir(placeholderDir),
  };
}

/** A hit the index answered, as a load gives it (metadata is in a record only where it was on). */
export function servedFromRecord(file: string, record: HitRecord) {
  return {
    file,
    key: record.key,
    alt: record.alt ?? undefined,
    responsive: record.responsive ?? undefined,
    seed: record.seed,
    status: 'cached' as const,
    images: record.images.map(({ stamp: _stamp, ...image }) => image),
    ...(record.steps ? { steps: record.steps.map((step) => ({ ...step, status: 'cached' as const })) } : {}),
    ...(record.inputs ? { inputs: record.inputs.map((input) => input.path) } : {}),
  };
}

/** A digest of the stored live catalog's content (not of when it was fetched), or null when there is none. */
function liveCatalogDigest(path: string): string | null {
  try {
    const { fetchedAt: _fetchedAt, ...content } = JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
    return sha256(Buffer.from(canonicalJson(content)));
  } catch {
    return null;
  }
}

/** Where an entry's manifest is, as the cache store puts it. */
export function manifestPathIn(cacheDir: string, key: string): string {
  return join(cacheDir, 'entries', `${key}.json`);
}

export class HitIndex {
  private files: Record<string, HitRecord> | undefined;
  private dirty = false;
  /** The digest of each prompt file's bytes as looked up this run, so that a record is made for the bytes prepared. */
  private seen = new Map<string, { source: string; stamp: Stamp }>();

  /** Prompt files remembered this run (as opposed to read from the file). */
  private remembered = new Set<string>();

  constructor(
    private path: string,
    private settings: string,
    private readonly manifestPath: (key: string) => string,
    /** The settings as they are when saving: Venice's live catalog may have been fetched meanwhile. */
    private readonly settingsNow?: () => string,
  ) {}

  /** The index for these settings, with the manifest paths of the cache directory they name. */
  static for(settings: HitSettings, settingsNow?: () => HitSettings): HitIndex {
    return new HitIndex(settings.indexPath, settings.digest, (key) => manifestPathIn(settings.cacheDir, key), settingsNow && (() => settingsNow().digest));
  }

  private known = false;

  private load(): Record<string, HitRecord> {
    if (this.files) return this.files;
    try {
      const data = JSON.parse(readFileSync(this.path, 'utf8')) as IndexFile;
      this.known = data?.version === INDEX_VERSION && data.settings === this.settings && typeof data.files === 'object' && data.files !== null;
      this.files = this.known ? data.files : {};
    } catch {
      this.files = {};
    }
    return this.files;
  }

  /**
   * Whether an engine ran with exactly these settings on this machine and recorded hits: then they
   * passed its checks, and a build can start without loading it.
   */
  get settingsKnown(): boolean {
    this.load();
    return this.known;
  }

  /** Every prompt file the index has a record for (each still to be looked up: a record proves nothing alone). */
  recordedFiles(): string[] {
    return Object.keys(this.load());
  }

  /** The record for the prompt file if its bytes, its entry's manifest and every image are as verified; else undefined. */
  lookup(file: string): HitRecord | undefined {
    let stamp: Stamp;
    try {
      stamp = stampOf(statSync(file));
    } catch {
      return undefined;
    }
    const found = this.load()[file];
    const record = isRecord(found) ? found : undefined;
    if (record && sameStamp(stamp, record.sourceStamp) && !isRacy(stamp, record.recordedAt)) {
      // unchanged since its bytes were hashed, and not racy: the digest recorded is the file's
      this.seen.set(file, { source: record.source, stamp });
    } else {
      const source = this.hashOf(file, stamp);
      if (!source) return undefined;
      this.seen.set(file, { source, stamp });
      if (!record || record.source !== source) return undefined;
      // the same bytes under a new or racy stamp: recorded now, so that the next build only stats
      const now = Date.now();
      if (!isRacy(stamp, now)) {
        record.sourceStamp = stamp;
        record.recordedAt = now;
        this.dirty = true;
      }
    }
    try {
      if (!sameStamp(stampOf(statSync(this.manifestPath(record.key))), record.manifest)) return undefined;
      for (const image of record.images) if (!sameStamp(stampOf(statSync(image.path)), image.stamp)) return undefined;
      // a committed image the file starts from, changed (or too freshly written to tell) since it was hashed
      for (const input of record.inputs ?? []) {
        const stamp = stampOf(statSync(input.path));
        if (!sameStamp(stamp, input.stamp) || isRacy(stamp, record.recordedAt)) return undefined;
      }
    } catch {
      return undefined;
    }
    return record;
  }

  /**
   * Remembers a prompt file just served from a verified entry (or just generated). Only when the
   * file was looked up this run and its bytes are still those: a file edited meanwhile is not recorded.
   */
  remember(file: string, entry: Omit<HitRecord, 'source' | 'sourceStamp' | 'recordedAt' | 'manifest' | 'images'> & { images: Omit<IndexedImage, 'stamp'>[] }): void {
    const seen = this.seen.get(file);
    if (!seen) return;
    try {
      // unchanged since it was looked up (an edit in the same instant shows as a racy stamp, which the
      // next lookup hashes again)
      const sourceStamp = stampOf(statSync(file));
      if (!sameStamp(sourceStamp, seen.stamp)) return;
      const { source } = seen;
      const record: HitRecord = {
        ...entry,
        source,
        sourceStamp,
        recordedAt: Date.now(),
        manifest: stampOf(statSync(this.manifestPath(entry.key))),
        images: entry.images.map((image) => ({ ...image, stamp: stampOf(statSync(image.path)) })),
      };
      this.load()[file] = record;
      this.remembered.add(file);
      this.dirty = true;
    } catch {
      // gone meanwhile: nothing to remember
    }
  }

  /**
   * The sha256 of the file's bytes, or undefined when it cannot be read; with `stamp`, only when the
   * file's stamp after the read is still that one (no write happened while it was read).
   */
  private hashOf(file: string, stamp?: Stamp): string | undefined {
    try {
      const digest = sha256(readFileSync(file));
      if (stamp && !sameStamp(stampOf(statSync(file)), stamp)) return undefined;
      return digest;
    } catch {
      return undefined;
    }
  }

  /** Whether something this run learnt is not on disk yet. */
  get unsaved(): boolean {
    return this.dirty;
  }

  /**
   * Writes what this run learnt, and that an engine ran with these settings (so that the next build
   * with the same settings needs none to start); a failure costs only the next build's speed.
   */
  async save(): Promise<void> {
    this.load();
    const now = this.settingsNow?.() ?? this.settings;
    if (now !== this.settings) {
      // the settings changed during the run (a live catalog fetched): only what this run made holds
      this.files = Object.fromEntries(Object.entries(this.files ?? {}).filter(([file]) => this.remembered.has(file)));
      // and they go to the file of the settings now in force
      if (basename(this.path) === indexFileName(this.settings)) this.path = join(dirname(this.path), indexFileName(now));
      this.settings = now;
      this.known = false;
    }
    if (!this.dirty && this.known) return;
    this.known = true;
    this.dirty = false;
    try {
      await mkdir(dirname(this.path), { recursive: true });
      const data: IndexFile = { version: INDEX_VERSION, settings: this.settings, files: this.files ?? {} };
      await writeFileAtomic(this.path, JSON.stringify(data), { durable: false });
      await removeOldIndexes(dirname(this.path));
    } catch {
      // a read-only node_modules: every build verifies in full, as before
    }
  }
}

/** The index file of a set of settings. */
function indexFileName(settings: string): string {
  return `${INDEX_PREFIX}${settings.slice(0, 16)}.json`;
}

/** Keeps the most recently written index files, so that settings no longer used leave no trail. */
async function removeOldIndexes(dir: string): Promise<void> {
  const names = (await readdir(dir)).filter((name) => name.startsWith(INDEX_PREFIX) && name.endsWith('.json'));
  if (names.length <= INDEXES_KEPT) return;
  const dated = await Promise.all(names.map(async (name) => ({ name, mtimeMs: (await stat(join(dir, name)).catch(() => undefined))?.mtimeMs ?? 0 })));
  dated.sort((a, b) => b.mtimeMs - a.mtimeMs);
  await Promise.all(dated.slice(INDEXES_KEPT).map(({ name }) => rm(join(dir, name), { force: true })));
}

const isStamp = (value: unknown): value is Stamp => Array.isArray(value) && value.length === 4 && value.every((n) => typeof n === 'number');

/** The index is a file on disk: a record is used only if it has the shape this module writes. */
function isRecord(value: unknown): value is HitRecord {
  const r = value as HitRecord;
  return (
    typeof r === 'object' &&
    r !== null &&
    SHA256_HEX.test(String(r.source)) &&
    isStamp(r.sourceStamp) &&
    Number.isFinite(r.recordedAt) &&
    SHA256_HEX.test(String(r.key)) &&
    (r.alt === null || typeof r.alt === 'string') &&
    (r.responsive === null || isResponsiveSpec(r.responsive)) &&
    Number.isInteger(r.seed) &&
    Array.isArray(r.warnings) &&
    r.warnings.every((w) => typeof w === 'string') &&
    (r.steps === undefined || (Array.isArray(r.steps) && r.steps.every(isStep))) &&
    (r.inputs === undefined || (Array.isArray(r.inputs) && r.inputs.every((i) => typeof i === 'object' && i !== null && typeof i.path === 'string' && isStamp(i.stamp)))) &&
    isStamp(r.manifest) &&
    Array.isArray(r.images) &&
    r.images.length > 0 &&
    r.images.every(
      (i) =>
        typeof i === 'object' &&
        i !== null &&
        typeof i.path === 'string' &&
        (IMAGE_FORMATS as readonly string[]).includes(i.format) &&
        Number.isInteger(i.width) &&
        Number.isInteger(i.height) &&
        SHA256_HEX.test(String(i.digest)) &&
        isStamp(i.stamp) &&
        (i.meta === undefined || isMetadata(i.meta)),
    )
  );
}

function isStep(s: IndexedStep): boolean {
  return (
    typeof s === 'object' &&
    s !== null &&
    (s.key === null || SHA256_HEX.test(String(s.key))) &&
    /^images?\/[a-z-]+$/.test(String(s.route)) &&
    typeof s.label === 'string' &&
    Number.isInteger(s.width) &&
    Number.isInteger(s.height) &&
    (IMAGE_FORMATS as readonly string[]).includes(s.format)
  );
}

/** Metadata of the exact shape imageprompt computes (see cache/manifest-schema.ts). */
function isMetadata(meta: ImageMetadata): boolean {
  return (
    typeof meta === 'object' &&
    meta !== null &&
    typeof meta.blurDataURL === 'string' &&
    meta.blurDataURL.length <= MAX_BLUR_DATA_URL &&
    BLUR_DATA_URL.test(meta.blurDataURL) &&
    String(meta.thumbhash).length <= MAX_THUMBHASH &&
    BASE64.test(String(meta.thumbhash)) &&
    HEX_COLOR.test(String(meta.color)) &&
    typeof meta.aspectRatio === 'number' &&
    meta.aspectRatio > 0
  );
}
