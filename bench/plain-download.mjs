#!/usr/bin/env node
/**
 * The benchmark's baseline for restoring from the shared cache: download a list of URLs into a
 * folder, `concurrency` at a time, each streamed to its own file. No checks, no hashing.
 * Usage: plain-download.mjs <urls.json> <out-dir> <concurrency>
 */
import { createWriteStream, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';

const [list, out, concurrency] = process.argv.slice(2);
const urls = JSON.parse(readFileSync(list, 'utf8'));
mkdirSync(out, { recursive: true });
let next = 0;
async function worker() {
  while (next < urls.length) {
    const i = next++;
    const response = await fetch(urls[i]);
    if (!response.ok) throw new Error(`${urls[i]}: HTTP ${response.status}`);
    await pipeline(Readable.fromWeb(response.body), createWriteStream(join(out, String(i))));
  }
}
await Promise.all(Array.from({ length: Number(concurrency) }, worker));
