/**
 * esbuild: it has no asset API for plugins, so the images are written beside the bundle when the
 * build ends (or added to `outputFiles` with `write: false`), named by esbuild's own `assetNames`
 * pattern (`[name]-[hash]` unless set; `[hash]` as esbuild draws it, eight base-32 characters).
 * The URL is `publicPath` plus the name, or a path relative to the output directory as esbuild's
 * `file` loader gives without a `publicPath`. Each prompt file names its own file, as the `file`
 * loader does for two images with equal bytes, so names never depend on the order modules load in.
 */
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join, relative, resolve } from 'node:path';
import type { BuildOptions, OutputFile, PluginBuild } from 'esbuild';
import { READ_SYNC_BELOW, assetBytes, type AssetEmitter, type HookContext, type ImageAsset } from './asset-emitter.js';

export class EsbuildAssets implements AssetEmitter {
  private pending = new Map<string, { bytes: Buffer; digest: string }>();
  private options: BuildOptions | undefined;

  constructor(private readonly root: () => string) {}

  /** Hooks the end of every build, to write what the build's modules emitted. */
  setup(build: PluginBuild): void {
    this.options = build.initialOptions;
    build.onEnd(async (result) => {
      const files = [...this.pending];
      this.pending.clear();
      if (result.errors.length > 0) return;
      const outDir = this.outDir();
      if (build.initialOptions.write === false) {
        result.outputFiles?.push(...files.map(([name, file]) => outputFile(join(outDir, name), file.bytes, file.digest)));
        return;
      }
      for (const dir of new Set(files.map(([name]) => dirname(join(outDir, name))))) await mkdir(dir, { recursive: true });
      // small files synchronously (for hundreds of images, several times faster than through the
      // thread pool, which the bundle's own writes share), large ones without blocking; a file already
      // there with the same bytes is left as it is, as webpack's `compareBeforeEmit` does (rewriting
      // hundreds of unchanged images cost a rebuild more than the bundle did)
      const large: [string, Buffer][] = [];
      for (const [name, file] of files) {
        const path = join(outDir, name);
        if (file.bytes.length >= READ_SYNC_BELOW) large.push([path, file.bytes]);
        else if (!holdsBytes(path, file.bytes)) writeFileSync(path, file.bytes);
      }
      for (let i = 0; i < large.length; i += 4) await Promise.all(large.slice(i, i + 4).map(([path, bytes]) => writeFile(path, bytes)));
    });
  }

  async emit(_context: HookContext, asset: ImageAsset): Promise<string> {
    const { bytes, digest } = await assetBytes(asset);
    const options = this.options ?? {};
    const dir = relative(resolve(this.root(), options.outbase ?? this.root()), dirname(asset.promptFile)).split('\\').join('/');
    const name = (options.assetNames ?? '[name]-[hash]')
      .replaceAll('[dir]', dir.startsWith('..') ? '' : dir)
      .replaceAll('[name]', asset.name)
      .replaceAll('[hash]', esbuildStyleHash(digest))
      .replaceAll('[ext]', asset.extension)
      .replace(/^\/+/, '');
    const fileName = `${name}.${asset.extension}`;
    this.pending.set(fileName, { bytes, digest });
    const publicPath = options.publicPath;
    const url = publicPath ? `${publicPath.replace(/\/$/, '')}/${fileName}` : `./${fileName}`;
    return JSON.stringify(url);
  }

  private outDir(): string {
    const options = this.options ?? {};
    const cwd = options.absWorkingDir ?? process.cwd();
    if (options.outdir) return resolve(cwd, options.outdir);
    if (options.outfile) return dirname(resolve(cwd, options.outfile));
    return cwd;
  }
}

/** Whether the file at `path` holds exactly `bytes` (a missing file does not). */
function holdsBytes(path: string, bytes: Buffer): boolean {
  try {
    return statSync(path).size === bytes.length && readFileSync(path).equals(bytes);
  } catch {
    return false;
  }
}

/** Eight base-32 characters from the digest, the shape of esbuild's own `[hash]`. */
function esbuildStyleHash(digest: string): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = BigInt(`0x${digest.slice(0, 10)}`);
  let out = '';
  for (let i = 0; i < 8; i++) {
    out = alphabet[Number(bits & 31n)] + out;
    bits >>= 5n;
  }
  return out;
}

function outputFile(path: string, contents: Buffer, digest: string): OutputFile {
  const bytes = new Uint8Array(contents);
  return {
    path,
    contents: bytes,
    hash: esbuildStyleHash(digest),
    get text() {
      return Buffer.from(bytes).toString('utf8');
    },
  };
}
