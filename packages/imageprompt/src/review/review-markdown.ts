/**
 * `summary.md`: the review in a few lines for a CI job summary or a pull-request comment: counts,
 * spend, and a table of the changed prompt files with links into the site.
 */
import type { ReviewModel } from './review-model.js';
import { spendChange, usd } from './review-page.js';

/**
 * Text as Markdown shows it, never as Markdown does: every character that could start markup inside
 * a line (a link or image, code, HTML or an entity, emphasis, a table cell) is escaped and line breaks
 * become spaces, so nothing starts a line (no heading, list or quote either).
 */
export const markdownText = (text: string) => text.replace(/[\r\n]+/g, ' ').replace(/[\\`*_{}[\]()<>|~&]/g, (c) => `\\${c}`);

/** A URL as a Markdown link target: whatever could end it or start markup percent-encoded. */
const linkTarget = (url: string) => url.replace(/[()<>\s\\`"']/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`);

export function renderReviewMarkdown(model: ReviewModel, siteUrl = 'index.html'): string {
  const { summary, items } = model;
  const lines = [
    '## imageprompt review',
    '',
    `${summary.counts.cached} cached · ${summary.counts.missing} missing · ${summary.counts.invalid} invalid — spent ${usd(summary.spentUsd)}, missing images would cost ${usd(summary.missingUsd)}${summary.unpriced ? ` (+${summary.unpriced} without a price)` : ''}.${summary.drawings ? ` ${summary.drawings} cached image${summary.drawings === 1 ? ' is a simulator drawing' : 's are simulator drawings'}, paid nothing.` : ''}`,
    '',
  ];
  if (summary.since !== undefined) {
    const changed = items.filter((item) => item.change);
    const delta = changed.reduce((sum, item) => sum + item.change!.spendDeltaUsd, 0);
    lines.push(`### Changed since ${markdownText(summary.since)}`, '');
    if (changed.length === 0) lines.push('No prompt file changed.', '');
    else {
      lines.push('| prompt file | change | status | fields | spend |', '| --- | --- | --- | --- | --- |');
      for (const item of changed) {
        const change = item.change!;
        const fields = change.fields.map((f) => markdownText(f.field)).join(', ') || '—';
        const status = change.kind === 'removed' ? '—' : item.status;
        lines.push(`| [${markdownText(item.file)}](${linkTarget(siteUrl)}) | ${change.kind} | ${status} | ${fields} | ${spendChange(change.spendDeltaUsd)} |`);
      }
      lines.push('', `Spend change: ${spendChange(delta)}.`, '');
    }
  }
  lines.push(`[Open the review](${linkTarget(siteUrl)})`, '');
  return lines.join('\n');
}
