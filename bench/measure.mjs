/** Runs a command as a child process and reports its wall time and the peak RSS of its Node processes. */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const reporter = new URL('./rss-reporter.mjs', import.meta.url).href;

export function measure(args, { cwd, env = {} }) {
  const dir = mkdtempSync(join(tmpdir(), 'bench-rss-'));
  const rssFile = join(dir, 'rss');
  const started = process.hrtime.bigint();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', reporter, ...args], {
      cwd,
      env: { ...process.env, ...env, BENCH_RSS_FILE: rssFile, NODE_OPTIONS: `--import=${reporter}` },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (c) => (output += c));
    child.stderr.on('data', (c) => (output += c));
    child.on('error', reject);
    child.on('exit', (code) => {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      let peak = 0;
      try {
        peak = Math.max(...readFileSync(rssFile, 'utf8').trim().split('\n').map(Number));
      } catch {
        // no report: the process died before exit handlers ran
      }
      rmSync(dir, { recursive: true, force: true });
      if (code !== 0) reject(new Error(`${args.join(' ')} exited with ${code}:\n${output.slice(-2000)}`));
      else resolve({ seconds, peakRss: peak, output });
    });
  });
}

export const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};
