/**
 * The overhead chart: for each bundler, a build's wall time with N cached prompt files divided by
 * the same build importing the N image files directly, against N. Drawn as a plain SVG (no library),
 * with every label escaped, so that the bench can write it beside its results and the docs can show it.
 */

const COLORS = ['#2563eb', '#dc2626', '#16a34a', '#9333ea', '#ea580c', '#0891b2', '#4b5563'];

const escape = (text) => String(text).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/**
 * `series`: [{ name, points: [[n, ratio], …] }]; returns the SVG text. The y axis starts at 0.8 and
 * ends above the largest ratio; a dashed line marks 1 (no overhead).
 */
export function overheadChart(series, { title = 'Build time with N cached prompt files ÷ the same build importing N image files', width = 720, height = 420 } = {}) {
  const margin = { left: 56, right: 150, top: 40, bottom: 48 };
  const plotW = width - margin.left - margin.right;
  const plotH = height - margin.top - margin.bottom;
  const ns = [...new Set(series.flatMap((s) => s.points.map(([n]) => n)))].sort((a, b) => a - b);
  const ratios = series.flatMap((s) => s.points.map(([, r]) => r));
  const yMin = Math.min(0.8, Math.floor(Math.min(...ratios) * 10) / 10);
  const yMax = Math.max(1.2, Math.ceil(Math.max(...ratios) * 10) / 10 + 0.1);
  // N on a log scale: the counts span 50 to 1000 and more
  const logMin = Math.log(ns[0]);
  const logMax = Math.log(ns.at(-1));
  const x = (n) => margin.left + (logMax === logMin ? plotW / 2 : ((Math.log(n) - logMin) / (logMax - logMin)) * plotW);
  const y = (r) => margin.top + plotH - ((r - yMin) / (yMax - yMin)) * plotH;
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="system-ui, sans-serif" font-size="12">`,
    `<rect width="${width}" height="${height}" fill="#ffffff"/>`,
    `<text x="${margin.left}" y="22" font-size="14" font-weight="600" fill="#111827">${escape(title)}</text>`,
  ];
  const step = yMax - yMin > 1.5 ? 0.5 : 0.1;
  for (let r = Math.ceil(yMin / step) * step; r <= yMax + 1e-9; r += step) {
    parts.push(`<line x1="${margin.left}" x2="${margin.left + plotW}" y1="${y(r).toFixed(1)}" y2="${y(r).toFixed(1)}" stroke="#e5e7eb"/>`);
    parts.push(`<text x="${margin.left - 8}" y="${(y(r) + 4).toFixed(1)}" text-anchor="end" fill="#374151">${r.toFixed(1)}</text>`);
  }
  parts.push(`<line x1="${margin.left}" x2="${margin.left + plotW}" y1="${y(1).toFixed(1)}" y2="${y(1).toFixed(1)}" stroke="#111827" stroke-dasharray="4 4"/>`);
  for (const n of ns) {
    parts.push(`<text x="${x(n).toFixed(1)}" y="${margin.top + plotH + 18}" text-anchor="middle" fill="#374151">${escape(n)}</text>`);
  }
  parts.push(`<text x="${margin.left + plotW / 2}" y="${height - 10}" text-anchor="middle" fill="#111827">N, cached prompt files in the build (log scale)</text>`);
  parts.push(`<text transform="translate(16 ${margin.top + plotH / 2}) rotate(-90)" text-anchor="middle" fill="#111827">ratio (1 = no overhead)</text>`);
  series.forEach((s, i) => {
    const color = COLORS[i % COLORS.length];
    const points = s.points.map(([n, r]) => `${x(n).toFixed(1)},${y(r).toFixed(1)}`).join(' ');
    parts.push(`<polyline points="${points}" fill="none" stroke="${color}" stroke-width="2"/>`);
    for (const [n, r] of s.points) parts.push(`<circle cx="${x(n).toFixed(1)}" cy="${y(r).toFixed(1)}" r="3" fill="${color}"><title>${escape(`${s.name}, N = ${n}: ${r.toFixed(2)}`)}</title></circle>`);
    const ly = margin.top + 10 + i * 20;
    parts.push(`<line x1="${width - margin.right + 16}" x2="${width - margin.right + 40}" y1="${ly}" y2="${ly}" stroke="${color}" stroke-width="2"/>`);
    parts.push(`<text x="${width - margin.right + 46}" y="${ly + 4}" fill="#111827">${escape(s.name)}</text>`);
  });
  parts.push('</svg>', '');
  return parts.join('\n');
}
