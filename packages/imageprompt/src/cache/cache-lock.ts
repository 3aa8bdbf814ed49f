/**
 * A lock per request key across processes, so that two builds sharing a cache directory pay for an
 * image once: the second waits for the first and then finds the entry.
 *
 * - A lock is made whole or not at all: its owner record is written to a temporary file that is then
 *   hard-linked to the lock's name (`link` fails if the name exists), so no live lock is ever empty.
 * - A holder on this host keeps its lock for as long as its process lives. A holder on another host
 *   is presumed gone once the lock is older than the longest its generation can take (`holdMs`,
 *   written into the lock by the holder from its own retry policy and timeout).
 * - An empty or unreadable lock (left by a process killed while making it) is abandoned once its
 *   file is older than a short grace.
 * - Taking over an abandoned lock is itself exclusive: a taker first links the abandoned file to a
 *   name derived from that very file (its inode and mtime), which only one process can create, and
 *   removes the lock only if the linked file is the one it judged. Every other taker backs off and
 *   competes for the fresh lock like any waiter, so exactly one process wins.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync, unlinkSync } from 'node:fs';
import { link, lstat, readFile, unlink, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { dirname } from 'node:path';
import { ImagePromptError } from '../errors/errors.js';
import { local, tempPathFor } from './atomic-file.js';
import { releaseOnInterrupt } from './process-exit.js';

export interface LockOptions {
  /**
   * The longest this process may hold the lock; waiters on other hosts take it over after that.
   * @default 1440000 (the worst case of the default retry policy and timeout, plus a margin)
   */
  holdMs?: number;
  /** Give up waiting after this long; by default waits until the lock is released or abandoned. */
  waitMs?: number;
  /** An empty or unreadable lock older than this is abandoned. @default 10000 */
  emptyGraceMs?: number;
  /** Hears about a wait: first after `firstNoticeMs`, then every `noticeEveryMs`. */
  onWait?: (wait: LockWait) => void;
  /** @default 2000 */
  firstNoticeMs?: number;
  /** @default 15000 */
  noticeEveryMs?: number;
  /** @default 150 */
  pollMs?: number;
}

export interface LockOwner {
  pid: number;
  host: string;
  /** When the lock was taken, epoch ms. */
  since: number;
  /** How long the holder may keep it. */
  holdMs: number;
  /** The holder's process start time (Linux), so that a reused pid is not taken for the holder. */
  start?: string;
  nonce: string;
}

export interface LockWait {
  path: string;
  /** The holder's record, or undefined while the lock is empty or unreadable. */
  owner: LockOwner | undefined;
  waitedMs: number;
}

export const DEFAULT_HOLD_MS = 1_440_000;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Field 22 of /proc/<pid>/stat: when the process started, in clock ticks since boot. */
function processStart(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

function isAlive(owner: LockOwner): boolean {
  try {
    process.kill(owner.pid, 0);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  // the pid is in use; by the holder only if it started when the holder did
  if (owner.start === undefined) return true;
  const start = processStart(owner.pid);
  return start === undefined || start === owner.start;
}

interface Found {
  owner: LockOwner | undefined;
  ino: number;
  mtimeMs: number;
}

async function inspect(path: string): Promise<Found | undefined> {
  let info;
  try {
    info = await lstat(path);
  } catch {
    return undefined;
  }
  let owner: LockOwner | undefined;
  try {
    const parsed = JSON.parse(await readFile(path, 'utf8')) as Partial<LockOwner>;
    if (typeof parsed.pid === 'number' && typeof parsed.host === 'string' && typeof parsed.since === 'number') {
      owner = { holdMs: DEFAULT_HOLD_MS, nonce: '', ...parsed } as LockOwner;
    }
  } catch {
    owner = undefined;
  }
  return { owner, ino: info.ino, mtimeMs: info.mtimeMs };
}

function isAbandoned(found: Found, emptyGraceMs: number, now: number): boolean {
  const { owner } = found;
  if (!owner) return now - found.mtimeMs > emptyGraceMs;
  if (owner.host === hostname()) return !isAlive(owner);
  return now - owner.since > owner.holdMs;
}

/** Removes the abandoned lock `found` unless another process is already doing so; see the file's comment. */
async function takeOver(path: string, found: Found): Promise<void> {
  const claim = `${path}.takeover-${found.ino}-${Math.round(found.mtimeMs)}`;
  try {
    await link(path, claim);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') return; // the lock is gone already
    // a taker that died between its claim and the removal leaves the claim: clear it after a while
    const left = await lstat(claim).catch(() => undefined);
    if (left && left.ino === found.ino && Date.now() - left.ctimeMs > 30_000) await unlink(claim).catch(() => undefined);
    return;
  }
  try {
    const claimed = await lstat(claim);
    if (claimed.ino === found.ino && claimed.mtimeMs === found.mtimeMs) await unlink(path).catch(() => undefined);
  } finally {
    await unlink(claim).catch(() => undefined);
  }
}

/** Makes the lock whole in one step, or reports that it is held. */
async function create(path: string, owner: LockOwner): Promise<boolean> {
  const temp = tempPathFor(dirname(path));
  await local(temp, () => writeFile(temp, JSON.stringify(owner), { flag: 'wx' }));
  try {
    await link(temp, path);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw new ImagePromptError({
      code: 'CACHE_WRITE_FAILED',
      message: `cannot create the lock ${path} (${(error as NodeJS.ErrnoException).code ?? String(error)})`,
      hint: 'make the cache directory writable by this user, or point cacheDir (IMAGEPROMPT_CACHE_DIR) elsewhere',
      cause: error,
    });
  } finally {
    await unlink(temp).catch(() => undefined);
  }
}

/** Takes the lock at `path`; resolves to its release function. */
export async function acquireLock(path: string, options: LockOptions = {}): Promise<() => Promise<void>> {
  const pollMs = options.pollMs ?? 150;
  const emptyGraceMs = options.emptyGraceMs ?? 10_000;
  const firstNoticeMs = options.firstNoticeMs ?? 2000;
  const noticeEveryMs = options.noticeEveryMs ?? 15_000;
  const started = Date.now();
  let nextNotice = started + firstNoticeMs;
  for (;;) {
    const owner: LockOwner = {
      pid: process.pid,
      host: hostname(),
      since: Date.now(),
      holdMs: options.holdMs ?? DEFAULT_HOLD_MS,
      start: processStart(process.pid),
      nonce: randomBytes(8).toString('hex'),
    };
    if (await create(path, owner)) {
      // interrupted (Ctrl-C, a cancelled job), the lock goes at once, not after its holder is found dead
      const forget = releaseOnInterrupt(() => releaseNow(path, owner.nonce));
      return () => {
        forget();
        return release(path, owner.nonce);
      };
    }
    const found = await inspect(path);
    if (!found) continue;
    const now = Date.now();
    if (isAbandoned(found, emptyGraceMs, now)) {
      await takeOver(path, found);
      continue;
    }
    if (now >= nextNotice) {
      options.onWait?.({ path, owner: found.owner, waitedMs: now - started });
      nextNotice = now + noticeEveryMs;
    }
    if (options.waitMs !== undefined && now - started > options.waitMs) {
      throw new ImagePromptError({
        code: 'CACHE_LOCKED',
        message: `another process has held ${path} for over ${Math.round(options.waitMs / 1000)} s${found.owner ? ` (pid ${found.owner.pid} on ${found.owner.host})` : ''}`,
        hint: 'if no other build is running, delete that lock file',
      });
    }
    await sleep(pollMs);
  }
}

/** {@link release} in one synchronous step, for a process about to end. */
function releaseNow(path: string, nonce: string): void {
  try {
    if ((JSON.parse(readFileSync(path, 'utf8')) as Partial<LockOwner>).nonce === nonce) unlinkSync(path);
  } catch {
    // gone already, or not ours
  }
}

/** Removes the lock if it is still this holder's. */
async function release(path: string, nonce: string): Promise<void> {
  const found = await inspect(path);
  if (found?.owner?.nonce === nonce) await unlink(path).catch(() => undefined);
}
