/**
 * What `prune` removes from the machine-local derivative cache (responsive images): files made from
 * an image no longer in the cache (an old version of an edited prompt file, a placeholder), and
 * temporary files of writes that never finished. Derivatives of images still cached stay, whichever
 * prompt file or import asked for them. Files younger than the grace are kept: a running build may be
 * using them.
 */
import { readdir, stat } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { derivativeSource } from '../images/derivatives.js';
import { TEMP_PREFIX } from '../cache/atomic-file.js';

export interface DerivativeSweep {
  /** Absolute paths to remove. */
  remove: string[];
  /** Notes on files kept for now. */
  kept: string[];
}

export async function sweepDerivatives(dir: string, root: string, keptDigests: ReadonlySet<string>, graceMs: number): Promise<DerivativeSweep> {
  const sweep: DerivativeSweep = { remove: [], kept: [] };
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return sweep; // no derivative made on this machine yet
  }
  for (const name of names) {
    const source = derivativeSource(name);
    const temporary = name.startsWith(TEMP_PREFIX);
    if (source === undefined && !temporary) continue; // not ours: left alone
    if (source !== undefined && keptDigests.has(source)) continue;
    const path = join(dir, name);
    const ageMs = Date.now() - (await stat(path)).mtimeMs;
    if (ageMs < graceMs) sweep.kept.push(`${relative(root, path)} (written ${Math.round(ageMs / 1000)} s ago: a running build may be using it)`);
    else sweep.remove.push(path);
  }
  return sweep;
}
