/**
 * Astro integration: `integrations: [imageprompt()]`. Prompt-file imports default-export Astro's
 * own `ImageMetadata`, so they work with `<Image>` and `<Picture>` as a local image import does.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { AstroIntegration } from 'astro';
import { createVitePlugin } from 'unplugin';
import { createFactory } from './index.js';
import type { Options } from './core/options.js';

const vitePlugin = createVitePlugin(createFactory('image-import'));

/**
 * The declarations the integration injects: the package's own `types/astro.d.ts`, one source for both,
 * found from the package's root (the published module is a bundle, not this file's place in src/).
 */
const TYPES = readFileSync(join(dirname(createRequire(import.meta.url).resolve('unplugin-imageprompt/package.json')), 'types', 'astro.d.ts'), 'utf8');

export default function imageprompt(options: Options = {}): AstroIntegration {
  return {
    name: 'unplugin-imageprompt',
    hooks: {
      'astro:config:setup': ({ config, updateConfig }) => {
        updateConfig({ vite: { plugins: [vitePlugin({ ...options, root: options.root ?? fileURLToPath(config.root) })] } });
      },
      'astro:config:done': ({ injectTypes }) => {
        injectTypes({ filename: 'types.d.ts', content: TYPES });
      },
    },
  };
}
