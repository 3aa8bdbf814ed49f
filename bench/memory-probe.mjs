// Generates one prompt file with the engine, after noting the process's RSS, and prints
// { before, bytes }: the RSS before generation and the bytes of the images received.
import { ImagePromptEngine, silentLogger } from 'imageprompt';

const engine = new ImagePromptEngine({ logger: silentLogger, concurrency: 1, timeoutMs: 600_000 });
const before = process.memoryUsage().rss;
const result = await engine.load(process.argv[2]);
const { stat } = await import('node:fs/promises');
let bytes = 0;
for (const image of result.images) bytes += (await stat(image.path)).size;
console.log(JSON.stringify({ before, bytes }));
