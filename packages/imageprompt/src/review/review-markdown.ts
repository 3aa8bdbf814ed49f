/**
 * `summary.md`: the review in a few lines for a CI job summary or a pull-request comment: counts,
 * spend, and a table of the changed prompt files with links into the site.
 */
import type { ReviewModel } from './review-model.js';
import { usd } from './review-page.js';

const cell = (text: string) => text.replace(/\|/g, '\\|').replace(/\n/g, ' ');

export function renderReviewMarkdown(model: ReviewModel, siteUrl = 'index.html'): string {
  const { summary, items } = model;
  const lines = [
    '## imageprompt review',
    '',
    `${summary.counts.cached} cached · ${summary.counts.missing} missing · ${summary.counts.invalid} invalid — spent ${usd(summary.spentUsd)}, missing images would cost ${usd(summary.missingUsd)}${summary.unpriced ? ` (+${summary.unpriced} without a price)` : ''}.`,
    '',
  ];
  if (summary.since !== undefined) {
    const changed = items.filter((item) => item.change);
    const delta = changed.reduce((sum, item) => sum + item.change!.spendDeltaUsd, 0);
    lines.push(`### Changed since \`${summary.since}\``, '');
    if (changed.length === 0) lines.push('No prompt file changed.', '');
    else {
      lines.push('| prompt file | change | status | fields | spend |', '| --- | --- | --- | --- | --- |');
      for (const item of changed) {
        const change = item.change!;
        const fields = change.fields.map((f) => f.field).join(', ') || '—';
        const status = change.kind === 'removed' ? '—' : item.status;
        const sign = change.spendDeltaUsd >= 0 ? '+' : '−';
        lines.push(`| [${cell(item.file)}](${siteUrl}) | ${change.kind} | ${status} | ${cell(fields)} | ${sign}${usd(Math.abs(change.spendDeltaUsd))} |`);
      }
      lines.push('', `Spend change: ${delta >= 0 ? '+' : '−'}${usd(Math.abs(delta))}.`, '');
    }
  }
  lines.push(`[Open the review](${siteUrl})`, '');
  return lines.join('\n');
}
