/**
 * The documented import form is typed under the stock Vite tsconfig (`resolveJsonModule` on), checked
 * by the real compiler. The fixture holds `@ts-expect-error` lines, so types that were too loose
 * (`any`, or the raw JSON) would fail the check as surely as wrong ones.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { TEST_DIR } from './helpers/fixtures.js';
import { binOf, runNode } from './helpers/processes.js';

describe('TypeScript', () => {
  it('types `import x from "./x.imageprompt.json?imageprompt"` under the stock Vite tsconfig', async () => {
    const project = join(TEST_DIR, 'fixtures', 'vite-types');
    const result = await runNode([binOf('typescript', 'bin/tsc'), '--noEmit', '-p', project], { cwd: project });
    expect(result.output).toBe('');
    expect(result.code).toBe(0);
  });
});
