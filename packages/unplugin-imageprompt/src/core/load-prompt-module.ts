/**
 * The load hook's work for one prompt file: its images from the hit index when this machine verified
 * them before (no engine loaded), else from the engine (at once in a dev server, where a miss is a
 * placeholder generated in the background), emitted through the bundler's asset API with their
 * responsive sizes where the prompt file or the import's query asks (`responsive-images.ts`), and the
 * module code that exports them. Errors leave as the command's readable text.
 */
import { relative } from 'node:path';
import type { ImageResult } from 'imageprompt';
import { ImagePromptError, servedFromRecord } from 'imageprompt/hits';
import { emitterFor, imageAsset, type AssetEmitter, type HookContext } from './emit/asset-emitter.js';
import type { BuildContext } from './build-context.js';
import type { DevReview } from './dev-review.js';
import { moduleCode, urlModuleCode } from './module-code.js';
import { responsiveImages } from './responsive-images.js';
import { applyDirectives, parseDirectives } from './import-directives.js';
import { DevServerAssets } from './emit/dev-server-assets.js';

export interface LoadServices {
  build: BuildContext;
  emitter: AssetEmitter;
  /** Where misses are generated in the background (dev servers, watch mode): the bundler's own way of showing what lands. */
  generations: BackgroundGenerations;
  review: DevReview;
}

/** A dev server's or watcher's follow-up of images generated in the background. */
export interface BackgroundGenerations {
  /** Records what a load handed out; `generated` settles when a placeholder's image lands or fails. */
  loaded(hook: HookContext, file: string, result: ImageResult, generated?: Promise<ImageResult>): void;
  /** True once after a generated image landed for the file. */
  takeLanded(file: string): boolean;
}

/**
 * `directives`: the import's query directives (`w=480;960&format=avif`, `url`), '' for none; `module`:
 * the id the load hook was given, which the images are emitted as belonging to.
 */
export async function loadPromptModule(hook: HookContext, file: string, services: LoadServices, directives: string, module: string): Promise<string> {
  const { build, generations, review } = services;
  const emitter = emitterFor(services.emitter, module);
  // the prompt file as messages and the build summary name it
  const name = relative(build.root, file);
  try {
    // checked before anything else, and only where the import has a query (not on every hit)
    const overrides = directives ? parseDirectives(directives, name) : undefined;
    if (build.mode === 'dev') review.changed(file);
    let result: ImageResult;
    let landed = false;
    const indexed = build.indexedHit(file, name);
    if (indexed) {
      result = servedFromRecord(file, indexed);
      if (build.generatesInBackground) {
        generations.loaded(hook, file, result);
        landed = generations.takeLanded(file);
      }
    } else if (build.generatesInBackground) {
      const answer = await (await build.engine()).loadWithoutWaiting(file);
      result = answer.result;
      generations.loaded(hook, file, result, answer.generated);
      landed = generations.takeLanded(file) && !answer.generated;
    } else result = await (await build.engine()).load(file);
    // a committed image the prompt file edits or upscales: changing it rebuilds the import
    for (const input of result.inputs ?? []) hook.addWatchFile(input);
    const images = result.images;
    const emitImage = (i: number) => emitter.emit(hook, imageAsset(file, i, images.length, images[i]!));
    let code: string;
    if (overrides?.url) {
      // the URL alone: the first image is emitted, and no responsive size is made for this import
      code = urlModuleCode(await emitImage(0));
    } else {
      const urls = await Promise.all(images.map((_, i) => emitImage(i)));
      if (overrides) result = { ...result, responsive: applyDirectives(result.responsive, overrides, name) };
      const responsive = await responsiveFor(hook, file, result, { build, emitter }, services.emitter instanceof DevServerAssets);
      code = moduleCode(result, build.options.exportShape, urls, responsive);
    }
    return landed ? `${code}console.info(${JSON.stringify(`[imageprompt] ${name}: the generated image has landed`)});\n` : code;
  } catch (error) {
    throw readable(error);
  }
}

/**
 * The responsive sizes of the import, where the prompt file asks for them. Astro's `<Picture>` and
 * `getImage()` make their own from the import (`widths`, `formats`), so there the field is said to be
 * unused, once, and nothing is derived.
 */
function responsiveFor(hook: HookContext, file: string, result: ImageResult, { build, emitter }: Pick<LoadServices, 'build' | 'emitter'>, deferEncoding: boolean) {
  if (!result.responsive) return undefined;
  if (build.options.exportShape === 'image-import') {
    build.warnOnce(`${relative(build.root, file)}: "responsive" is not used in Astro: give <Picture> its widths and formats, and Astro derives them from this image`);
    return undefined;
  }
  return responsiveImages(hook, file, result, { build, emitter, deferEncoding });
}

/**
 * An engine error as a build error that reads like the command's: file, field, what was wrong and
 * what to do, without a stack trace or the schema library's dump (`DEBUG=imageprompt` keeps them).
 */
function readable(error: unknown): unknown {
  if (!(error instanceof ImagePromptError) || /\bimageprompt\b/.test(process.env.DEBUG ?? '')) return error;
  const clean = new Error(error.message);
  clean.name = 'imageprompt';
  clean.stack = '';
  return clean;
}
