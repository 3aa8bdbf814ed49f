/**
 * What the WebDAV helpers share (nginx-dav.mjs, apache-dav.mjs): a server process started with a
 * configuration of the test's own, waited for until it answers, and stopped with its scratch folder
 * removed.
 */
import { rm } from 'node:fs/promises';

/**
 * Waits until `url` answers `method` (any status), while `child` runs; then resolves to the store's
 * handle. On failure, `why()` says what the server said.
 * @param {import('node:child_process').ChildProcess} child
 * @param {{ url: string; method: string; stopSignal: NodeJS.Signals; dir: string; files: string; name: string; why: () => Promise<string> }} server
 * @returns {Promise<{ url: string; dir: string; close(): Promise<void> }>}
 */
export async function davServer(child, { url, method, stopSignal, dir, files, name, why }) {
  for (let i = 0; ; i++) {
    const up = await fetch(`${url}/cache/`, { method }).then(
      () => true,
      () => false,
    );
    if (up) break;
    if (i > 100 || child.exitCode !== null) throw new Error(`${name} did not start: ${await why()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    url: `${url}/cache`,
    dir: files,
    close: async () => {
      if (child.exitCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill(stopSignal);
        await exited;
      }
      await rm(dir, { recursive: true, force: true });
    },
  };
}
