/** Test helpers: fixture projects copied to a scratch folder, a simulator with a secret key, file scans. */
import { randomBytes } from 'node:crypto';
import { cp, mkdir, readdir, readFile, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startVeniceSim, type VeniceSim } from 'venice-sim';

export const TEST_DIR = fileURLToPath(new URL('..', import.meta.url));
/** Scratch space inside the repo, so fixtures resolve the workspace packages from node_modules. */
const SCRATCH = join(TEST_DIR, '.tmp');

export const REPO_DIR = join(TEST_DIR, '..');

/** Copies a project (build output and caches left behind) to a fresh scratch folder. */
export async function copyProject(source: string, name: string): Promise<string> {
  const dir = join(SCRATCH, `${name}-${randomBytes(4).toString('hex')}`);
  await mkdir(SCRATCH, { recursive: true });
  const skip = new Set(['node_modules', 'dist', '.astro', '.imageprompt', '.imageprompt-sim']);
  await cp(source, dir, { recursive: true, filter: (path) => !skip.has(path.slice(source.length + 1).split('/')[0]!) });
  return dir;
}

export function copyFixture(name: string): Promise<string> {
  return copyProject(join(TEST_DIR, 'fixtures', name), name);
}

export async function removeFixture(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true });
}

/** A key no file in the repo contains, so finding it anywhere is a leak. */
export function secretKey(): string {
  return `sk-leakcheck-${randomBytes(12).toString('hex')}`;
}

export async function startSim(key: string): Promise<VeniceSim> {
  return startVeniceSim({ keys: [key], rpm: 0 });
}

export async function listFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true }).catch(() => [])) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) {
      if (entry.name !== 'node_modules') out.push(...(await listFiles(path)));
    } else out.push(path);
  }
  return out;
}

/** Every file under `dir` (node_modules aside) that contains `needle`. */
export async function filesContaining(dir: string, needle: string): Promise<string[]> {
  const hits: string[] = [];
  for (const file of await listFiles(dir)) {
    // a file may vanish between listing and reading (another process's temporary file)
    const info = await stat(file).catch(() => undefined);
    if (!info || info.size > 50 * 1024 * 1024) continue;
    const bytes = await readFile(file).catch(() => undefined);
    if (bytes?.includes(needle)) hits.push(file);
  }
  return hits;
}
