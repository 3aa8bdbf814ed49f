#!/usr/bin/env node
/**
 * Builds both playgrounds. With VENICE_API_KEY set, images come from Venice (or VENICE_BASE_URL);
 * without it, a local Venice-compatible server (venice-sim) is started on 127.0.0.1 and used instead.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { startVeniceSim } from 'venice-sim';

const here = fileURLToPath(new URL('.', import.meta.url));
const env = { ...process.env };
let sim;
if (!env.VENICE_API_KEY) {
  sim = await startVeniceSim({ rpm: 0 });
  env.VENICE_API_KEY = 'sim-key';
  env.VENICE_BASE_URL = sim.url;
  env.IMAGEPROMPT_PLAYGROUND_SIM = '1';
  console.log(`No VENICE_API_KEY is set: using the local Venice-compatible server at ${sim.url}.`);
  console.log('The images are simulator drawings, not Venice output, and cost nothing.');
  // A separate cache keeps simulator drawings from ever being mistaken for paid images.
  env.IMAGEPROMPT_CACHE_DIR = '.imageprompt-sim';
} else {
  console.log(`Using Venice at ${env.VENICE_BASE_URL ?? 'https://api.venice.ai/api/v1'} with the key from VENICE_API_KEY.`);
}

function run(command, args, cwd) {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd, env, stdio: 'inherit' });
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`${command} ${args.join(' ')} in ${cwd} exited with ${code}`))));
  });
}

try {
  await run('npx', ['vite', 'build'], `${here}vite`);
  await run('npx', ['astro', 'build'], `${here}astro`);
  console.log('Built playground/vite/dist and playground/astro/dist.');
} finally {
  await sim?.close();
}
