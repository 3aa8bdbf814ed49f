/** Plugin options: the engine's options, resolved once per plugin instance. */
import type { EngineOptions } from 'imageprompt';

export interface Options extends Omit<EngineOptions, 'root' | 'context'> {
  /**
   * Project root; the default cache directory and the paths in log lines are relative to it.
   * @default the bundler's root (Vite's `config.root`, Astro's `root`), else `process.cwd()`
   */
  root?: string;
  /**
   * In the Vite and Astro dev servers, wait for Venice on a miss as a build does, instead of showing
   * a placeholder at once and swapping the image in when it lands.
   * @default false
   */
  waitInDev?: boolean;
}

/** How a prompt-file module exports its images. */
export type ExportShape =
  /** Default export `{ src, width, height, format, alt, variants, seed, key }` with `src` the asset URL. */
  | 'image-object'
  /** Default export the bundler's own image import (Astro's `ImageMetadata`), as a local image import gives. */
  | 'image-import';

export interface ResolvedOptions {
  engine: Omit<EngineOptions, 'root' | 'context'>;
  root: string | undefined;
  waitInDev: boolean;
  exportShape: ExportShape;
}

export function resolveOptions(options: Options = {}, exportShape: ExportShape = 'image-object'): ResolvedOptions {
  const { root, waitInDev, ...engine } = options;
  return { engine, root, waitInDev: waitInDev ?? false, exportShape };
}
