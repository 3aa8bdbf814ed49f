/**
 * A Vite build of a fixture whose entry puts its imports on `globalThis.__imageprompt`, and what the
 * built bundle exports there, run in this process.
 */
import { copyFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { build, type PluginOption } from 'vite';
import { listFiles } from './fixtures.js';

let runs = 0;

export async function viteBuildExports<T>(root: string, plugin: PluginOption): Promise<T> {
  await build({
    root,
    configFile: false,
    logLevel: 'silent',
    plugins: [plugin],
    build: { outDir: 'dist', emptyOutDir: true, modulePreload: { polyfill: false }, assetsInlineLimit: 0 },
  });
  const js = (await listFiles(join(root, 'dist'))).find((f) => f.endsWith('.js'))!;
  // run under a name of its own: the module loader keeps a module by its path, and an unchanged
  // build's bundle has the same name as the one before, whatever query the import adds
  const run = join(root, 'dist', `run-${(runs += 1)}.mjs`);
  await copyFile(js, run);
  await import(pathToFileURL(run).href);
  return (globalThis as unknown as { __imageprompt: T }).__imageprompt;
}
