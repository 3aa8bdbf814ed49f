/** summary.md is made from values by escaping: a file name or a ref cannot become Markdown. */
import { describe, expect, it } from 'vitest';
import { markdownText, renderReviewMarkdown } from '../../src/review/review-markdown.js';
import type { ReviewModel } from '../../src/review/review-model.js';

const hostile = 'src/[click](https://evil.example)<img src=x onerror=alert(1)>`code`|cell*bold*.imageprompt.json';

function model(file: string, since: string): ReviewModel {
  return {
    items: [{ file, folder: 'src', status: 'cached', priceUsd: 0.01, images: [], change: { kind: 'modified', fields: [{ field: 'prompt', before: 'a', after: 'b' }], spendDeltaUsd: 0 } }],
    summary: { counts: { cached: 1, missing: 0, invalid: 0 }, spentUsd: 0.01, missingUsd: 0, unpriced: 0, drawings: 0, since, changes: { added: 0, modified: 1, removed: 0 } },
  };
}

describe('summary.md', () => {
  it('shows a hostile file name and ref as text: no link, image, HTML, code span or extra cell', () => {
    const text = renderReviewMarkdown(model(hostile, 'main`; rm -rf /`\n# heading'), { url: 'https://review.example/pr-7/' });
    expect(text).not.toContain('](https://evil.example)');
    expect(text).not.toMatch(/(^|[^\\])<img/);
    expect(text).not.toMatch(/(^|[^\\])`/);
    expect(text).not.toMatch(/\n# heading/);
    // the row still has exactly its five cells
    const row = text.split('\n').find((line) => line.includes('modified'))!;
    expect(row.split(/(?<!\\)\|/).length - 2).toBe(5);
    expect(text).toContain('[Open the review](https://review.example/pr-7/)');
  });

  it('links nothing a job summary cannot reach: without a published URL it names the folder', () => {
    const text = renderReviewMarkdown(model('src/hero.imageprompt.json', 'main'), { folder: 'imageprompt-review' });
    expect(text).not.toMatch(/\]\(/);
    expect(text).toContain('| src/hero.imageprompt.json | modified |');
    expect(text).toContain('The review site was written to imageprompt-review/index.html on the machine that ran the review');
    expect(text).toContain('pass `--site-url` to link it from here');
  });

  it('escapes each markup character with a backslash, and nothing else', () => {
    expect(markdownText('a[b](c)<d>`e`|f*g_h')).toBe('a\\[b\\]\\(c\\)\\<d\\>\\`e\\`\\|f\\*g\\_h');
    expect(markdownText('src/hero.imageprompt.json')).toBe('src/hero.imageprompt.json');
  });
});
