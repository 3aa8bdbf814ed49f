/**
 * Real file-system faults for tests: a tiny tmpfs that fills up (ENOSPC), and a child process run
 * as an unprivileged user, for whom a directory can be read-only (root ignores permissions). Both
 * need root, as the project's machines and CI give; elsewhere the tests that use them are skipped.
 */
import { execFileSync } from 'node:child_process';
import { mkdir } from 'node:fs/promises';

/** The unprivileged user and group that Debian ships. */
export const NOBODY = { uid: 65534, gid: 65534 };

export const isRoot = process.getuid?.() === 0;

/** Whether this process may mount a tmpfs (root in a namespace that allows it). */
export const canMount = (() => {
  if (!isRoot) return false;
  try {
    execFileSync('sh', ['-c', 'd=$(mktemp -d) && mount -t tmpfs -o size=4k tmpfs "$d" && umount "$d" && rmdir "$d"'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

/** Mounts a tmpfs of `bytes` (whole pages) at `dir`; resolves to its unmount. */
export async function mountTinyFs(dir: string, bytes: number): Promise<() => void> {
  await mkdir(dir, { recursive: true });
  execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${bytes}`, 'tmpfs', dir]);
  let mounted = true;
  return () => {
    if (!mounted) return;
    mounted = false;
    execFileSync('umount', [dir]);
  };
}

/** Gives a folder tree to the unprivileged user. */
export function chownToNobody(dir: string): void {
  execFileSync('chown', ['-R', `${NOBODY.uid}:${NOBODY.gid}`, dir]);
}
