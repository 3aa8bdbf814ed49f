/**
 * What one plugin instance knows about the build it serves, in one object: the bundler, the project
 * root and `base` as the bundler sets them, whether this is a dev server or a build, and the engine,
 * made on first use with those settings. Every hook reads these here, never from loose variables.
 */
import { ImagePromptEngine } from 'imageprompt';
import type { ResolvedOptions } from './options.js';

export class BuildContext {
  /** The project root: the option, else the bundler's (Vite's `root`, webpack's `context` …), else the working directory. */
  root: string;
  /** Vite's `base`, always ending in `/`. */
  base = '/';
  mode: 'dev' | 'build' = 'build';
  private made: ImagePromptEngine | undefined;

  constructor(
    readonly options: ResolvedOptions,
    /** unplugin's name for the bundler: `vite`, `rollup`, `rolldown`, `webpack`, `rspack`, `esbuild`. */
    readonly framework: string,
  ) {
    this.root = options.root ?? process.cwd();
  }

  /** Takes the bundler's root unless the `root` option was given. */
  useBundlerRoot(root: string | undefined): void {
    if (!this.options.root && root) this.root = root;
  }

  /** The engine, made once with the root and mode in force when it is first needed. */
  get engine(): ImagePromptEngine {
    this.made ??= new ImagePromptEngine({ ...this.options.engine, root: this.root, context: this.mode });
    return this.made;
  }

  /** The engine if one was made (a build that loaded no prompt file has none). */
  get engineIfMade(): ImagePromptEngine | undefined {
    return this.made;
  }

  /** A miss in the Vite or Astro dev server shows a placeholder at once and never blocks a page. */
  get generatesInBackground(): boolean {
    return this.framework === 'vite' && this.mode === 'dev' && !this.options.waitInDev;
  }
}
