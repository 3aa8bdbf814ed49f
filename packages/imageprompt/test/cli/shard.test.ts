/** How misses are split between CI runners: by request key alone, evenly, every runner agreeing. */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { inShard, parseShard, shardOfKey } from '../../src/cli/shard.js';

const keyOf = (i: number) => createHash('sha256').update(`request ${i}`).digest('hex');

describe('shards', () => {
  it('are read as <index>/<count>, and anything else is refused with the source named', () => {
    expect(parseShard('2/4', '--shard')).toEqual({ index: 2, count: 4 });
    expect(parseShard(' 1 / 1 ', 'IMAGEPROMPT_SHARD')).toEqual({ index: 1, count: 1 });
    for (const bad of ['0/4', '5/4', '1/0', '2', 'a/b', '1/999', '-1/4']) {
      expect(() => parseShard(bad, 'IMAGEPROMPT_SHARD')).toThrow(/^IMAGEPROMPT_SHARD needs <index>\/<count>/);
    }
  });

  it('give every key to exactly one shard, the same one every time, whatever other keys exist', () => {
    const keys = Array.from({ length: 4000 }, (_, i) => keyOf(i));
    const sizes = [0, 0, 0, 0];
    for (const key of keys) {
      const owners = [1, 2, 3, 4].filter((index) => inShard(key, { index, count: 4 }));
      expect(owners).toEqual([shardOfKey(key, 4)]);
      sizes[owners[0]! - 1]! += 1;
    }
    // uniform hashes: each shard within a tenth of an even share
    for (const size of sizes) expect(Math.abs(size - 1000)).toBeLessThan(100);
    // no shard means everything
    expect(inShard(keys[0]!, undefined)).toBe(true);
  });
});
