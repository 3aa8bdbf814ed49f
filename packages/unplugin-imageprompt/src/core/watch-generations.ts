/**
 * webpack and Rspack in watch mode (`webpack --watch`, webpack-dev-server, Rspack's dev server) never
 * wait for Venice either: a miss is a placeholder at once, its module marked not cacheable so that the
 * next compilation builds it again, and the image is generated in the background. When it lands the
 * watcher is told to compile again (`compiler.watching.invalidate()`), the module now finds the
 * generated image in the cache, and the dev server sends the new bundle to the page as it sends any
 * other change. A failure is printed by the engine, as in a build, and the placeholder stays.
 */
import type { ImageResult } from 'imageprompt';
import type { HookContext } from './emit/asset-emitter.js';
import type { BackgroundGenerations } from './load-prompt-module.js';

/** What this needs of a webpack or Rspack compiler: its watcher, while one runs. */
export interface WatchedCompiler {
  watching?: { invalidate(callback?: () => void): void };
}

export class WatchGenerations implements BackgroundGenerations {
  private compiler: WatchedCompiler | undefined;
  /** The request key each prompt file was last loaded with: a landing for an older one is not shown. */
  private current = new Map<string, string>();
  private landed = new Set<string>();
  private invalidating = false;

  attach(compiler: WatchedCompiler): void {
    this.compiler = compiler;
  }

  /** Records what a load handed out; a placeholder's module is built again on every compilation until its image lands. */
  loaded(hook: HookContext, file: string, result: ImageResult, generated?: Promise<ImageResult>): void {
    const { key } = result;
    this.current.set(file, key);
    if (result.status === 'placeholder') notCacheable(hook);
    generated?.then(
      () => {
        // still the load that handed out the placeholder (a chain's final key differs from its head's)
        if (this.current.get(file) !== key) return;
        this.landed.add(file);
        this.invalidate();
      },
      // said by the engine as it failed; the placeholder stays until the file is edited
      () => undefined,
    );
  }

  /** True once after a generated image landed for the file: its next module says so in the console. */
  takeLanded(file: string): boolean {
    return this.landed.delete(file);
  }

  /** One new compilation for every image that lands meanwhile. */
  private invalidate(): void {
    if (this.invalidating) return;
    this.invalidating = true;
    setImmediate(() => {
      this.invalidating = false;
      this.compiler?.watching?.invalidate();
    });
  }
}

/** The loader context of webpack or Rspack, if the hook runs in one. */
function notCacheable(hook: HookContext): void {
  const native = hook.getNativeBuildContext?.() as { loaderContext?: { cacheable?(flag: boolean): void } } | undefined;
  native?.loaderContext?.cacheable?.(false);
}
