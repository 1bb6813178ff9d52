// chart.js — line charts of per-run numbers (tick duration, lateness, a program's
// metrics) with uPlot. Colours come from the page's CSS custom properties, so the
// charts follow the light/dark theme; each chart is a <figure> whose caption states
// the numbers in text (min, median, max) for readers who cannot see the canvas.
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { formatMs, h } from './dom.js';

function cssVar(name) {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim();
}

function stats(values) {
  const v = values.filter((x) => typeof x === 'number' && Number.isFinite(x)).sort((a, b) => a - b);
  if (v.length === 0) return null;
  return { min: v[0], max: v[v.length - 1], median: v[Math.floor((v.length - 1) / 2)], n: v.length };
}

/**
 * A chart of `points` ([{t: epoch s, y: number}]) in a figure:
 *   {id, title, unit ('ms' or ''), color (a CSS variable name)} -> {el, update(points), destroy()}
 * The figure carries data-points (how many points are drawn) for tests and tools.
 */
export function lineChart({ id, title, unit, color }) {
  const caption = h('figcaption', { id: `${id}-caption` });
  const plot = h('div', { class: 'plot', role: 'img', 'aria-labelledby': `${id}-caption` });
  const el = h('figure', { class: 'chart', id, dataset: { chart: id, points: '0' } }, plot, caption);
  let u = null;
  let data = [[], []];
  const fmt = (y) => (y === null || y === undefined ? '—' : unit === 'ms' ? formatMs(y) : String(+y.toPrecision(6)));

  function make() {
    if (u) u.destroy();
    const width = Math.max(240, plot.clientWidth || 600);
    const axis = { stroke: cssVar('--muted'), grid: { stroke: cssVar('--grid'), width: 1 }, ticks: { stroke: cssVar('--grid'), width: 1 } };
    u = new uPlot({
      width,
      height: 180,
      legend: { show: false },
      cursor: { drag: { x: false, y: false } },
      scales: { x: { time: true } },
      axes: [axis, { ...axis, size: 64, values: (_, ticks) => ticks.map(fmt) }],
      series: [{}, { label: title, stroke: cssVar(color), width: 2, points: { show: data[0].length < 60, size: 5, fill: cssVar(color) } }],
    }, data, plot);
  }

  function update(points) {
    data = [points.map((p) => p.t), points.map((p) => (Number.isFinite(p.y) ? p.y : null))];
    el.dataset.points = String(data[1].filter((y) => y !== null).length);
    const s = stats(data[1]);
    caption.textContent = s
      ? `${title} over the last ${s.n} runs: min ${fmt(s.min)}, median ${fmt(s.median)}, max ${fmt(s.max)}`
      : `${title}: no runs yet`;
    if (!plot.isConnected) return;
    if (!u) make();
    else u.setData(data);
  }

  const resize = new ResizeObserver(() => {
    if (!plot.isConnected) return;
    if (!u) make();
    else if (Math.abs(u.width - plot.clientWidth) > 2 && plot.clientWidth > 0) u.setSize({ width: plot.clientWidth, height: 180 });
  });
  resize.observe(plot);
  const scheme = matchMedia('(prefers-color-scheme: dark)');
  const onScheme = () => u && make();
  scheme.addEventListener('change', onScheme);

  return {
    el,
    update,
    destroy() {
      resize.disconnect();
      scheme.removeEventListener('change', onScheme);
      if (u) u.destroy();
      u = null;
    },
  };
}
