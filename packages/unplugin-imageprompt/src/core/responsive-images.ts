/**
 * A prompt file's `responsive` field: each image of the import also comes at the widths and in the
 * formats it lists, derived locally from the cached bytes (`imageprompt/hits`' `Derivatives`, cached
 * on this machine, so a rebuild encodes nothing) and emitted through the bundler's asset API like the
 * image itself, named `hero-480w-<hash>.avif`. The module gets, per image, `srcset` (in the image's
 * own format when listed, else the last format listed: the `<img>` fallback of a `<picture>`) and
 * `sources`, one `{ type, srcset }` per format in the order given, for `<picture>`'s `<source>`s.
 *
 * In a dev server the URLs are handed out at once and each derivative is served when it is made
 * (the middleware waits for it); in a build every derivative is made before the module is.
 */
import { relative } from 'node:path';
import type { ImageResult } from 'imageprompt';
import { MIME_TYPES, derivedExtension, type DerivedFormat, type PlannedDerivative } from 'imageprompt/hits';
import { imageStem, type AssetEmitter, type HookContext } from './emit/asset-emitter.js';
import type { BuildContext } from './build-context.js';

/** Per image: JavaScript expressions for its `srcset` string and its `sources` array. */
export interface ResponsiveCode {
  srcset: string;
  sources: string;
}

export async function responsiveImages(
  hook: HookContext,
  file: string,
  result: ImageResult,
  { build, emitter, deferEncoding }: { build: BuildContext; emitter: AssetEmitter; deferEncoding: boolean },
): Promise<ResponsiveCode[] | undefined> {
  const spec = result.responsive;
  if (!spec) return undefined;
  const name = relative(build.root, file);
  return Promise.all(
    result.images.map(async (image, index) => {
      const source = { path: image.path, digest: image.digest, width: image.width, height: image.height };
      const plan = await build.derivatives.plan(source, spec);
      if (plan.dropped.length > 0) {
        build.warnOnce(`${name}: responsive widths ${plan.dropped.join(', ')} are wider than the ${image.width}-px image and are left out (images are never upscaled)`);
      }
      const made = build.derivatives.make(source, plan);
      if (deferEncoding) made.catch((error: unknown) => build.logger.warn(`${name}: a responsive image could not be made: ${(error as Error).message}`));
      else await made;
      const stem = imageStem(file, index, result.images.length);
      const urls = await Promise.all(
        plan.derivatives.map((d) =>
          emitter.emit(hook, { promptFile: file, name: `${stem}-${d.width}w`, extension: derivedExtension(d.format), path: d.path, digest: d.key, ...(deferEncoding ? { ready: made } : {}) }),
        ),
      );
      const byFormat = new Map<DerivedFormat, string[]>();
      plan.derivatives.forEach((d: PlannedDerivative, i) => byFormat.set(d.format, [...(byFormat.get(d.format) ?? []), `${urls[i]} + ${JSON.stringify(` ${d.width}w`)}`]));
      const srcsetOf = (format: DerivedFormat) => byFormat.get(format)!.join(' + ", " + ');
      const fallback = spec.formats.includes(image.format) ? image.format : spec.formats[spec.formats.length - 1]!;
      const sources = spec.formats.map((format) => `{ type: ${JSON.stringify(MIME_TYPES[format])}, srcset: ${srcsetOf(format)} }`);
      return { srcset: srcsetOf(fallback), sources: `[${sources.join(', ')}]` };
    }),
  );
}
