/**
 * A share of the misses for one of several CI runners (`--shard 2/4`, or `IMAGEPROMPT_SHARD`), as
 * test runners shard suites. A miss belongs to the shard its request key names: every runner agrees
 * without talking to the others, and adding or editing a prompt file moves no other file between
 * shards (each key's shard depends on that key alone). Keys are uniform hashes, so shards come out
 * even in count, if not in price (`plan --shard` shows both).
 */
export interface Shard {
  /** 1-based, as CI matrices count. */
  index: number;
  count: number;
}

const MAX_SHARDS = 256;

/** The shard `text` names (`2/4`), or a message saying what is wrong with it. */
export function parseShard(text: string, source: string): Shard {
  const match = /^\s*(\d{1,3})\s*\/\s*(\d{1,3})\s*$/.exec(text);
  const index = Number(match?.[1]);
  const count = Number(match?.[2]);
  if (!match || count < 1 || count > MAX_SHARDS || index < 1 || index > count) {
    throw new RangeError(`${source} needs <index>/<count> with 1 ≤ index ≤ count ≤ ${MAX_SHARDS}, like 2/4; got ${JSON.stringify(text.slice(0, 40))}`);
  }
  return { index, count };
}

/** The shard (1-based) a request key belongs to among `count`. */
export function shardOfKey(key: string, count: number): number {
  // 48 bits of the key: exact in a double, and uniform like the rest of it
  return (Number.parseInt(key.slice(0, 12), 16) % count) + 1;
}

export function inShard(key: string, shard: Shard | undefined): boolean {
  return !shard || shardOfKey(key, shard.count) === shard.index;
}

export const shardName = (shard: Shard) => `${shard.index}/${shard.count}`;
