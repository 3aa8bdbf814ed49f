/**
 * `summary.md`: the review in a few lines for a CI job summary or a pull-request comment: counts,
 * spend, and a table of the changed prompt files, linked to the site where it is published.
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

/**
 * Where the site is, for the summary: a URL where it is published (`--site-url`), linked; else the
 * folder it was written to, named but not linked, since a job summary or a comment cannot reach a
 * file of the job's workspace.
 */
export type SiteLocation = { url: string } | { folder: string };

export function renderReviewMarkdown(model: ReviewModel, site: SiteLocation): string {
  const { summary, items } = model;
  const fileCell = (file: string) => ('url' in site ? `[${markdownText(file)}](${linkTarget(site.url)})` : markdownText(file));
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
        lines.push(`| ${fileCell(item.file)} | ${change.kind} | ${status} | ${fields} | ${spendChange(change.spendDeltaUsd)} |`);
      }
      lines.push('', `Spend change: ${spendChange(delta)}.`, '');
    }
  }
  if ('url' in site) lines.push(`[Open the review](${linkTarget(site.url)})`, '');
  else lines.push(`The review site was written to ${markdownText(`${site.folder}/index.html`)} on the machine that ran the review: upload that folder (a CI artifact, GitHub Pages …), and pass \`--site-url\` to link it from here.`, '');
  return lines.join('\n');
}
