// Loaded with `node --import` into a measured process: on exit, writes its peak RSS (bytes) to the
// file named by BENCH_RSS_FILE, so the benchmark can compare memory across whole builds.
import { appendFileSync } from 'node:fs';

const file = process.env.BENCH_RSS_FILE;
if (file) {
  process.on('exit', () => {
    appendFileSync(file, `${process.resourceUsage().maxRSS * 1024}\n`);
  });
}
