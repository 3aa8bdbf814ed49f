#!/usr/bin/env node
/**
 * The `imageprompt` command as npm links it. Starting is most of what a short command costs (a
 * restore of 200 images takes about as long as Node takes to load the engine as separate modules),
 * so the command ships as one file, `imageprompt.js`, the CLI with its pure-JavaScript dependencies
 * bundled by `scripts/bundle.mjs` at build time (sharp, viem and thumbhash stay packages, loaded on
 * first use). Before loading it, Node (22.1 and later) is asked to keep the compiled code in its compile
 * cache, so that the next run does not parse it again; Node 20 has no such cache and starts without.
 */
import module from 'node:module';

module.enableCompileCache?.();
// a path made at run time: the bundle exists only in dist/, after the build
await import(new URL('./imageprompt.js', import.meta.url).href);
