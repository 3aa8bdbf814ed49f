/**
 * A lock per request key across processes, so that two builds sharing a cache directory pay for
 * an image once: the second waits for the first and then finds the entry. A lock whose owner died
 * (same host, pid gone) or that is older than `staleMs` is taken over.
 */
import { hostname } from 'node:os';
import { open, readFile, unlink } from 'node:fs/promises';
import { ImagePromptError } from './errors.js';

export interface LockOptions {
  /** How long to wait for another process before giving up. @default 600000 */
  waitMs?: number;
  /** A lock older than this is presumed abandoned. @default 900000 */
  staleMs?: number;
  pollMs?: number;
}

interface LockOwner {
  pid: number;
  host: string;
  since: number;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function isStale(path: string, staleMs: number): Promise<boolean> {
  let owner: LockOwner;
  try {
    owner = JSON.parse(await readFile(path, 'utf8')) as LockOwner;
  } catch {
    return false; // being written right now, or just released
  }
  if (Date.now() - owner.since > staleMs) return true;
  return owner.host === hostname() && !isAlive(owner.pid);
}

/** Takes the lock at `path`; resolves to its release function. */
export async function acquireLock(path: string, options: LockOptions = {}): Promise<() => Promise<void>> {
  const waitMs = options.waitMs ?? 600_000;
  const staleMs = options.staleMs ?? 900_000;
  const pollMs = options.pollMs ?? 150;
  const deadline = Date.now() + waitMs;
  for (;;) {
    try {
      const handle = await open(path, 'wx');
      const owner: LockOwner = { pid: process.pid, host: hostname(), since: Date.now() };
      await handle.writeFile(JSON.stringify(owner));
      await handle.close();
      return async () => {
        await unlink(path).catch(() => undefined);
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    if (await isStale(path, staleMs)) {
      await unlink(path).catch(() => undefined);
      continue;
    }
    if (Date.now() > deadline) {
      throw new ImagePromptError({
        code: 'CACHE_LOCKED',
        message: `another process has held ${path} for over ${Math.round(waitMs / 1000)} s`,
        hint: 'if no other build is running, delete that lock file',
      });
    }
    await sleep(pollMs);
  }
}
