// Copies the repository's reference pages (docs/*.md, and the charts they show) into the docs/
// folder of the imageprompt and unplugin-imageprompt packages, so that every page an error message
// or a package README names is in the published tarball. Run by the root build and before `npm pack`.
import { copyFile, mkdir, readdir, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const packages = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const source = join(packages, '..', 'docs');
const pages = (await readdir(source)).filter((name) => name.endsWith('.md') || name.endsWith('.svg'));
for (const target of ['imageprompt', 'unplugin-imageprompt']) {
  const dir = join(packages, target, 'docs');
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  for (const page of pages) await copyFile(join(source, page), join(dir, page));
}
