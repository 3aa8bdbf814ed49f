/**
 * Responsive derivatives: the generated image at smaller widths and in other formats, made locally
 * with sharp from the cached bytes, never from Venice. Each is a file in a machine-local cache
 * (`node_modules/.cache/imageprompt/derivatives` beside the placeholders) named by its source's
 * sha256 and the hash of what makes it (the source, the width, the format, the encoder settings and
 * sharp's version): `<source>-<key>.avif`. A rebuild finds them all and encodes nothing; `prune`
 * removes those whose source is no longer in the cache.
 *
 * Local, not in the shared cache: a derivative costs CPU seconds, not money, and anyone holding the
 * source makes the same one; the shared cache holds what was paid for, and every byte in it is more
 * to trust from another machine. (A CI job keeps them by caching `node_modules/.cache`.)
 *
 * Widths above the source's are dropped (never upscaled); a spec with none left gets the source's
 * own width. Encoding is bounded: at most one source decoded per slot, as many slots as the machine
 * has cores, each source decoded once to raw pixels and every output made from those in turn.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import { dirname, join } from 'node:path';
import { makeDirectory, writeFileAtomic } from '../cache/atomic-file.js';
import { GenerationQueue } from '../engine/generation-queue.js';
import { derivedExtension, type DerivedFormat, type ResponsiveSpec } from './responsive-spec.js';

/** Bumped when the way derivatives are made changes in a way the other inputs do not show. */
const RECIPE = 1;

/** Encoder settings per format: part of every derivative's key. */
export const ENCODER_SETTINGS = {
  avif: { quality: 50, effort: 4 },
  webp: { quality: 80, effort: 4 },
  jpeg: { quality: 82, mozjpeg: true },
  png: { compressionLevel: 9, palette: false },
} as const satisfies Record<DerivedFormat, object>;

export interface DerivativeSource {
  path: string;
  /** sha256 of the bytes when known; placeholders are hashed here. */
  digest: string | null;
  width: number;
  height: number;
}

export interface PlannedDerivative {
  width: number;
  height: number;
  format: DerivedFormat;
  /** sha256 of what makes it: source, width, format, encoder settings, sharp's version. */
  key: string;
  path: string;
}

export interface DerivativePlan {
  derivatives: PlannedDerivative[];
  /** Requested widths above the source's, left out. */
  dropped: number[];
}

/** The sha256 of the image a derivative file was made from, by its name; undefined for another file. */
export function derivativeSource(fileName: string): string | undefined {
  return /^([0-9a-f]{64})-[0-9a-f]{64}\.(avif|webp|jpg|png)$/.exec(fileName)?.[1];
}

/** The directory derivatives are kept in, beside the placeholders. */
export function derivativeDir(placeholderDir: string): string {
  return join(placeholderDir, '..', 'derivatives');
}

let sharpVersion: string | undefined;
/** sharp's version, from its package.json (found from its entry point: sharp exports no `./package.json`), without loading sharp. */
function encoderVersion(): string {
  if (sharpVersion) return sharpVersion;
  let dir = dirname(createRequire(import.meta.url).resolve('sharp'));
  for (;;) {
    try {
      const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'sharp' && pkg.version) return (sharpVersion = pkg.version);
    } catch {
      // no package.json here: look further up
    }
    const parent = dirname(dir);
    if (parent === dir) throw new Error('the version of sharp could not be read');
    dir = parent;
  }
}

export class Derivatives {
  /** Encodings share work per set of outputs, and take one of as many slots as the machine has cores. */
  private readonly queue: GenerationQueue;

  constructor(
    readonly dir: string,
    slots = Math.max(1, availableParallelism()),
  ) {
    this.queue = new GenerationQueue(slots);
  }

  /** Names, sizes and paths of a source's derivatives, without encoding anything. */
  async plan(source: DerivativeSource, spec: ResponsiveSpec): Promise<DerivativePlan> {
    const digest = source.digest ?? createHash('sha256').update(await readFile(source.path)).digest('hex');
    const kept = spec.widths.filter((w) => w <= source.width);
    const dropped = spec.widths.filter((w) => w > source.width);
    const widths = kept.length > 0 ? kept : [source.width];
    const derivatives: PlannedDerivative[] = [];
    for (const format of spec.formats) {
      for (const width of widths) {
        const key = createHash('sha256')
          .update(JSON.stringify([RECIPE, digest, width, format, ENCODER_SETTINGS[format], encoderVersion()]))
          .digest('hex');
        const height = Math.max(1, Math.round((width * source.height) / source.width));
        derivatives.push({ width, height, format, key, path: join(this.dir, `${digest}-${key}.${derivedExtension(format)}`) });
      }
    }
    return { derivatives, dropped };
  }

  /** Whether every planned derivative is on disk already. */
  static ready(plan: DerivativePlan): boolean {
    return plan.derivatives.every((d) => existsSync(d.path));
  }

  /**
   * Makes the planned derivatives not on disk yet. Two calls for the same source and plan share the
   * work; each file is written whole (temporary file, then rename) or not at all.
   */
  make(source: DerivativeSource, plan: DerivativePlan): Promise<void> {
    const missing = plan.derivatives.filter((d) => !existsSync(d.path));
    if (missing.length === 0) return Promise.resolve();
    const id = missing.map((d) => d.key).join(',');
    return this.queue.run(id, () => this.queue.slot(() => encode(source, missing, this.dir)));
  }
}

/** One source decoded once to raw pixels; each output resized and encoded from them in turn. */
async function encode(source: DerivativeSource, outputs: PlannedDerivative[], dir: string): Promise<void> {
  const { default: sharp } = await import('sharp');
  await makeDirectory(dir);
  const { data, info } = await sharp(await readFile(source.path)).raw().toBuffer({ resolveWithObject: true });
  const raw = { raw: { width: info.width, height: info.height, channels: info.channels } };
  for (const output of outputs) {
    if (existsSync(output.path)) continue;
    const resized = sharp(data, raw).resize(output.width, output.height, { fit: 'fill', withoutEnlargement: true });
    const bytes = await resized.toFormat(output.format, ENCODER_SETTINGS[output.format]).toBuffer();
    // no flush to disk: a derivative lost in a crash is made again, for nothing but time
    await writeFileAtomic(output.path, bytes, { durable: false });
  }
}
