/**
 * The review page: one self-contained HTML file (styles and the small filtering script inline, no
 * network) that works from `file://` and any static host. Every card is rendered here, so the page
 * reads without JavaScript; the script only filters (status, model, folder) and searches.
 */
import type { ReviewChange, ReviewImage, ReviewItem, ReviewModel, ReviewRequest } from './review-model.js';

/** Where the site keeps an image's full copy and its thumbnail. */
export interface SiteImages {
  full(image: ReviewImage): string;
  thumb(image: ReviewImage): string;
}

const escape = (text: unknown) =>
  String(text).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

export const usd = (value: number | null | undefined) => (value === null || value === undefined ? 'no price' : `$${Number(value.toFixed(4))}`);

/** A change in spend as a reviewer reads it: `+$0.04`, `−$0.01`, or `no change`. */
export const spendChange = (delta: number) => (Math.abs(delta) < 1e-9 ? 'no change' : `${delta > 0 ? '+' : '−'}${usd(Math.abs(delta))}`);

/** A file path that wraps after `/` and `.`, not in the middle of a name. */
const path = (file: string) => escape(file).replace(/([/.])/g, '$1<wbr>');

const STYLE = `
:root { color-scheme: light; font-family: system-ui, sans-serif; color: #1a1a1a; background: #fafafa; }
body { margin: 0; }
header, main { margin: 0 auto; padding: 1rem 1.5rem; }
h1 { font-size: 1.5rem; margin: 0 0 .5rem; }
h2 { font-size: 1.2rem; margin: 1.5rem 0 .5rem; }
.summary { display: flex; flex-wrap: wrap; gap: .5rem 2rem; margin: 0; }
.summary div { display: flex; gap: .4rem; }
.summary dt { font-weight: 600; }
.summary dd { margin: 0; }
form { display: flex; flex-wrap: wrap; gap: 1rem; align-items: end; margin: 1rem 0; }
label { display: flex; flex-direction: column; font-size: .9rem; gap: .2rem; }
select, input { font: inherit; padding: .3rem .4rem; border: 1px solid #6b6b6b; border-radius: 4px; background: #fff; color: #1a1a1a; }
:focus-visible { outline: 3px solid #1d4ed8; outline-offset: 2px; }
.sheet { list-style: none; padding: 0; display: grid; grid-template-columns: repeat(auto-fill, minmax(260px, 1fr)); gap: 1rem; }
.card { background: #fff; border: 1px solid #d4d4d4; border-radius: 6px; padding: .75rem; }
.card h3 { font-size: .95rem; margin: 0 0 .5rem; overflow-wrap: anywhere; }
.thumbs { display: flex; gap: .4rem; flex-wrap: wrap; }
.thumbs img { max-width: 100%; height: auto; background: #e5e5e5; display: block; }
.thumbs a { flex: 1 1 45%; }
.missing-box { background: repeating-linear-gradient(45deg, #ececec 0 10px, #d9d9d9 10px 20px); display: flex; align-items: center; justify-content: center; color: #333; width: 100%; }
.badge { display: inline-block; font-size: .8rem; font-weight: 600; padding: .1rem .45rem; border-radius: 999px; }
.badge.cached { background: #dcfce7; color: #14532d; }
.badge.missing { background: #fef3c7; color: #78350f; }
.badge.invalid, .badge.damaged { background: #fee2e2; color: #7f1d1d; }
.badge.simulator { background: #ede9fe; color: #4c1d95; }
.badge.change { background: #dbeafe; color: #1e3a8a; margin-left: .3rem; }
.prompt { margin: .5rem 0; }
.details { display: grid; grid-template-columns: auto 1fr; gap: .1rem .6rem; font-size: .85rem; margin: 0; }
.details dt { color: #4a4a4a; }
.details dd { margin: 0; overflow-wrap: anywhere; }
.steps { list-style: none; padding: 0; margin: .5rem 0; display: flex; flex-wrap: wrap; gap: .4rem; font-size: .75rem; }
.steps li { flex: 1 1 30%; display: flex; flex-direction: column; gap: .15rem; }
.steps img, .steps .missing-box { max-width: 100%; height: auto; }
.error { color: #7f1d1d; white-space: pre-wrap; font-size: .85rem; }
.changes { list-style: none; padding: 0; display: grid; gap: 1rem; }
.pair { display: grid; grid-template-columns: 1fr 1fr; gap: 1rem; }
.pair figure { margin: 0; }
.pair figcaption { font-weight: 600; margin-bottom: .3rem; }
table { border-collapse: collapse; font-size: .85rem; margin-top: .5rem; }
th, td { border: 1px solid #d4d4d4; padding: .25rem .5rem; text-align: left; vertical-align: top; overflow-wrap: anywhere; }
th:first-child, td:first-child { overflow-wrap: normal; }
/* a phone: before and after stay side by side; each detail's name goes above its value */
@media (max-width: 560px) {
  header, main { padding: .75rem; }
  .pair { gap: .5rem; }
  .details { grid-template-columns: 1fr; }
  .details dt { margin-top: .25rem; font-size: .75rem; }
}
[hidden] { display: none !important; }
`;

const SCRIPT = `
const cards = [...document.querySelectorAll('.sheet .card')];
const controls = ['status', 'model', 'folder'].map((id) => document.getElementById(id));
const search = document.getElementById('search');
const count = document.getElementById('count');
function apply() {
  const words = search.value.trim().toLowerCase().split(/\\s+/).filter(Boolean);
  let shown = 0;
  for (const card of cards) {
    const match = controls.every((select) => !select.value || card.dataset[select.id] === select.value)
      && words.every((word) => card.dataset.text.includes(word));
    card.hidden = !match;
    if (match) shown += 1;
  }
  count.textContent = shown + ' of ' + cards.length + ' prompt files shown';
}
for (const control of [...controls, search]) control.addEventListener('input', apply);
apply();
`;

function options(values: string[], all: string): string {
  return [`<option value="">${escape(all)}</option>`, ...values.map((v) => `<option value="${escape(v)}">${escape(v)}</option>`)].join('');
}

function thumbs(request: ReviewRequest, images: SiteImages, label: string): string {
  if (request.images.length > 0) {
    return request.images
      .map((image, i) => {
        const alt = `${label}${request.images.length > 1 ? `, variant ${i + 1}` : ''}: ${request.prompt ?? ''}`;
        const scale = Math.min(1, 320 / Math.max(image.width, image.height));
        const [w, h] = [Math.round(image.width * scale), Math.round(image.height * scale)];
        return `<a href="${escape(images.full(image))}"><img src="${escape(images.thumb(image))}" alt="${escape(alt)}" width="${w}" height="${h}" loading="lazy"></a>`;
      })
      .join('');
  }
  if (request.status === 'missing' && request.width && request.height) {
    return `<div class="missing-box" style="aspect-ratio: ${request.width} / ${request.height}" role="img" aria-label="${escape(`${label}: not generated yet`)}">not generated yet</div>`;
  }
  return '';
}

/** A chain link by link: the committed image it starts from, then each request's image (or a box where it is not made yet). */
function stepsList(request: ReviewRequest, images: SiteImages, label: string): string {
  if (!request.steps) return '';
  const items = request.steps.map((step, i) => {
    const name = `${label}, step ${i + 1}: ${step.label}`;
    const scale = Math.min(1, 160 / Math.max(step.width, step.height));
    const [w, h] = [Math.round(step.width * scale), Math.round(step.height * scale)];
    const picture = step.image
      ? `<a href="${escape(images.full(step.image))}"><img src="${escape(images.thumb(step.image))}" alt="${escape(name)}" width="${w}" height="${h}" loading="lazy"></a>`
      : `<div class="missing-box" style="aspect-ratio: ${step.width} / ${step.height}" role="img" aria-label="${escape(`${name}: not made yet`)}">not made yet</div>`;
    const cost = step.status === 'source' ? 'committed' : `${step.status === 'cached' ? 'paid' : 'to pay'} ${usd(step.priceUsd)}`;
    return `<li>${picture}<span>${escape(step.label)}</span><span>${step.width}×${step.height} ${escape(step.format)} · ${escape(cost)}</span></li>`;
  });
  return `<ol class="steps" aria-label="${escape(`${label}: steps`)}">${items.join('')}</ol>`;
}

function details(request: ReviewRequest): string {
  const rows: [string, unknown][] = [];
  if (request.model) rows.push(['model', request.model]);
  if (request.width) rows.push(['size', `${request.width}×${request.height}${request.variants && request.variants > 1 ? ` ×${request.variants}` : ''}`]);
  if (request.format) rows.push(['format', request.format]);
  if (request.seed !== undefined) rows.push(['seed', request.seed]);
  if (request.simulator) rows.push(['paid', 'nothing (a simulator drawing)']);
  else if (request.status !== 'invalid') rows.push([request.status === 'cached' ? 'paid' : 'to pay', usd(request.priceUsd)]);
  if (request.generatedAt) rows.push(['generated', request.generatedAt]);
  if (request.responseId) rows.push(['response id', request.responseId]);
  if (request.key) rows.push(['key', request.key.slice(0, 16)]);
  return `<dl class="details">${rows.map(([k, v]) => `<dt>${escape(k)}</dt><dd>${escape(v)}</dd>`).join('')}</dl>`;
}

function card(item: ReviewItem, images: SiteImages): string {
  const text = [item.file, item.prompt ?? '', item.model ?? '', item.error ?? ''].join(' ').toLowerCase();
  const change = item.change ? `<span class="badge change">${escape(item.change.kind)}</span>` : '';
  const damaged = item.damaged ? ' <span class="badge damaged">damaged</span>' : '';
  const drawn = item.simulator ? ' <span class="badge simulator">simulator drawing</span>' : '';
  return `<li class="card" data-status="${escape(item.status)}" data-model="${escape(item.model ?? '')}" data-folder="${escape(item.folder)}" data-text="${escape(text)}">
<h3>${path(item.file)}</h3>
<p><span class="badge ${escape(item.status)}">${escape(item.status)}</span>${damaged}${drawn}${change}</p>
<div class="thumbs">${thumbs(item, images, item.file)}</div>
${stepsList(item, images, item.file)}
${item.prompt ? `<p class="prompt">${escape(item.prompt)}</p>` : ''}
${item.error ? `<p class="error">${escape(item.error)}</p>` : ''}
${details(item)}
</li>`;
}

function changeBlock(item: ReviewItem, change: ReviewChange, images: SiteImages): string {
  const side = (title: string, request: ReviewRequest | undefined) =>
    `<figure><figcaption>${title}</figcaption>${
      request ? `<p><span class="badge ${escape(request.status)}">${escape(request.status)}</span></p><div class="thumbs">${thumbs(request, images, `${item.file} ${title.toLowerCase()}`)}</div>${stepsList(request, images, `${item.file} ${title.toLowerCase()}`)}${request.error ? `<p class="error">${escape(request.error)}</p>` : ''}${details(request)}` : '<p>none</p>'
    }</figure>`;
  const after = change.kind === 'removed' ? undefined : item;
  const table = change.fields.length
    ? `<table><caption>Request fields changed</caption><thead><tr><th scope="col">field</th><th scope="col">before</th><th scope="col">after</th></tr></thead><tbody>${change.fields
        .map((f) => `<tr><td>${escape(f.field)}</td><td>${escape(JSON.stringify(f.before) ?? '—')}</td><td>${escape(JSON.stringify(f.after) ?? '—')}</td></tr>`)
        .join('')}</tbody></table>`
    : '';
  const delta = change.spendDeltaUsd;
  return `<li class="card change-${escape(change.kind)}"><h3>${path(item.file)} <span class="badge change">${escape(change.kind)}</span></h3>
<div class="pair">${side('Before', change.before)}${side('After', after)}</div>
${table}
<p>Spend: ${spendChange(delta)}</p></li>`;
}

export function renderReviewPage(model: ReviewModel, images: SiteImages): string {
  const { items, summary } = model;
  const live = items.filter((item) => item.change?.kind !== 'removed');
  const models = [...new Set(live.map((i) => i.model).filter((m): m is string => !!m))].sort();
  const folders = [...new Set(live.map((i) => i.folder))].sort();
  const changed = items.filter((item) => item.change);
  const summaryRows: [string, string][] = [
    ['prompt files', String(live.length)],
    ['cached', String(summary.counts.cached)],
    ['missing', String(summary.counts.missing)],
    ['invalid', String(summary.counts.invalid)],
    ['spent', `${usd(summary.spentUsd)}${summary.drawings ? ` (${summary.drawings} simulator drawing${summary.drawings === 1 ? '' : 's'}, paid nothing)` : ''}`],
    ['cost of what is missing', `${usd(summary.missingUsd)}${summary.unpriced ? ` (+${summary.unpriced} without a price)` : ''}`],
  ];
  if (summary.changes) summaryRows.push(['changed since ' + summary.since, `${summary.changes.modified} modified, ${summary.changes.added} added, ${summary.changes.removed} removed`]);
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>imageprompt review</title>
<style>${STYLE}</style>
</head>
<body>
<header>
<h1>imageprompt review</h1>
<dl class="summary">${summaryRows.map(([k, v]) => `<div><dt>${escape(k)}</dt><dd>${escape(v)}</dd></div>`).join('')}</dl>
</header>
<main>
${
  summary.since !== undefined
    ? `<section aria-labelledby="changes-title"><h2 id="changes-title">Changes since ${escape(summary.since)}</h2>${
        changed.length ? `<ul class="changes">${changed.map((item) => changeBlock(item, item.change!, images)).join('\n')}</ul>` : '<p>No prompt file changed.</p>'
      }</section>`
    : ''
}
<section aria-labelledby="all-title">
<h2 id="all-title">Every prompt file</h2>
<form role="search" onsubmit="return false">
<label for="status">Status<select id="status">${options(['cached', 'missing', 'invalid'], 'every status')}</select></label>
<label for="model">Model<select id="model">${options(models, 'every model')}</select></label>
<label for="folder">Folder<select id="folder">${options(folders, 'every folder')}</select></label>
<label for="search">Search prompts and files<input id="search" type="search" autocomplete="off"></label>
</form>
<p id="count" aria-live="polite">${live.length} of ${live.length} prompt files shown</p>
<ul class="sheet">
${live.map((item) => card(item, images)).join('\n')}
</ul>
</section>
</main>
<script>${SCRIPT}</script>
</body>
</html>
`;
}
