/** Runs the project's real command-line tools as child processes and collects what they print. */
import { spawn, type ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { freePort } from './free-port.mjs';

const require = createRequire(import.meta.url);

export interface RunResult {
  code: number | null;
  output: string;
}

/** Path of a package's bin script, resolved from the workspace's node_modules. */
export function binOf(pkg: string, bin: string): string {
  return join(dirname(require.resolve(`${pkg}/package.json`)), bin);
}

/** The file npm links as a package's command (the `bin` its package.json names): what a user runs. */
export function commandOf(pkg: string): string {
  const manifest = require(`${pkg}/package.json`) as { bin: Record<string, string> };
  const bin = manifest.bin[pkg];
  if (!bin) throw new Error(`${pkg} names no command ${pkg} in its package.json`);
  return binOf(pkg, bin);
}

/** The environment a user's shell would give a child: this test runner's own variables removed. */
export function childEnv(extra: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
  const env: Record<string, string | undefined> = { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0', ...extra };
  for (const name of Object.keys(env)) {
    if (env[name] === undefined || name.startsWith('VITEST') || name === 'NODE_ENV' || name === 'TEST') delete env[name];
  }
  return env as NodeJS.ProcessEnv;
}

export function runNode(
  args: string[],
  options: { cwd: string; env?: Record<string, string | undefined>; timeoutMs?: number; user?: { uid: number; gid: number }; node?: string },
): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(options.node ?? process.execPath, args, { cwd: options.cwd, env: childEnv(options.env), stdio: ['ignore', 'pipe', 'pipe'], ...options.user });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 180_000);
    child.on('error', reject);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}

export { freePort };

export interface RunningServer {
  url: string;
  /** Everything the server printed so far. */
  output(): string;
  stop(): Promise<void>;
}

/** Starts a dev or preview server on a chosen port and waits until it prints its address. */
export async function startServer(args: string[], options: { cwd: string; env?: Record<string, string | undefined> }): Promise<RunningServer> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const child: ChildProcess = spawn(process.execPath, [...args, '--port', String(port), '--host', '127.0.0.1'], {
    cwd: options.cwd,
    env: childEnv(options.env),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no address printed within 60 s:\n${output}`)), 60_000);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes(`${url}/`)) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.on('exit', (code) => reject(new Error(`${args.join(' ')} exited with ${code}:\n${output}`)));
  });
  return {
    url,
    output: () => output,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}
