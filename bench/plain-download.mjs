#!/usr/bin/env node
/**
 * The benchmark's baseline for restoring from the shared cache: download a list of URLs into a
 * folder, `concurrency` at a time, each streamed to its own file. No checks, no hashing. The client
 * is `fetch` (what a short script would use, and the baseline of every earlier run) or `http`
 * (Node's own HTTP client with kept-alive connections, the leanest download Node can do).
 * Usage: plain-download.mjs <urls.json> <out-dir> <concurrency> [fetch|http]
 */
import { createWriteStream, mkdirSync, readFileSync } from 'node:fs';
import http from 'node:http';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';

const [list, out, concurrency, client = 'fetch'] = process.argv.slice(2);
const urls = JSON.parse(readFileSync(list, 'utf8'));
mkdirSync(out, { recursive: true });
const agent = new http.Agent({ keepAlive: true });

/** The body of `url` as a Node stream, after checking the status. */
async function download(url) {
  if (client === 'fetch') {
    const response = await fetch(url);
    if (!response.ok) throw new Error(`${url}: HTTP ${response.status}`);
    return Readable.fromWeb(response.body);
  }
  const response = await new Promise((resolve, reject) => http.get(url, { agent }, resolve).on('error', reject));
  if (response.statusCode !== 200) throw new Error(`${url}: HTTP ${response.statusCode}`);
  return response;
}

let next = 0;
async function worker() {
  while (next < urls.length) {
    const i = next++;
    await pipeline(await download(urls[i]), createWriteStream(join(out, String(i))));
  }
}
await Promise.all(Array.from({ length: Number(concurrency) }, worker));
agent.destroy();
