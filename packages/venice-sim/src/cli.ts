#!/usr/bin/env node
/**
 * `venice-sim [--port N] [--host H] [--latency-ms N] [--rpm N] [--key K]…`
 * Prints the base URL as the first line on stdout and runs until stopped.
 */
import { parseArgs } from 'node:util';
import { startVeniceSim } from './server.js';

const { values } = parseArgs({
  options: {
    port: { type: 'string', default: '0' },
    host: { type: 'string', default: '127.0.0.1' },
    'latency-ms': { type: 'string', default: '0' },
    rpm: { type: 'string', default: '20' },
    key: { type: 'string', multiple: true },
    'balance-usd': { type: 'string', default: '1000' },
    help: { type: 'boolean', short: 'h' },
  },
});

if (values.help) {
  process.stdout.write(
    'Usage: venice-sim [--port 0] [--host 127.0.0.1] [--latency-ms 0] [--rpm 20] [--key sim-key]... [--balance-usd 1000]\n',
  );
  process.exit(0);
}

function integer(name: string, text: string): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value < 0) {
    process.stderr.write(`venice-sim: --${name} must be a whole number of 0 or more, got "${text}"\n`);
    process.exit(2);
  }
  return value;
}

const sim = await startVeniceSim({
  port: integer('port', values.port),
  host: values.host,
  latencyMs: integer('latency-ms', values['latency-ms']),
  rpm: integer('rpm', values.rpm),
  balanceUsd: Number(values['balance-usd']),
  ...(values.key ? { keys: values.key } : {}),
});
process.stdout.write(`${sim.url}\n`);

const stop = () => {
  void sim.close().then(() => process.exit(0));
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
