// tests/dashboard/lib/audit.mjs — accessibility basics checked inside the page:
// every form control has a label, every button and link a name, text contrast meets
// WCAG AA (4.5:1, 3:1 for large text) against its effective background, one <main>,
// a lang, headings that do not skip levels, and no horizontal overflow of the page.
// audit(page) -> [problem strings] (empty when all is well).

/* eslint-disable no-undef -- runs in the browser */
function inPage() {
  const problems = [];
  const visible = (el) => {
    const r = el.getBoundingClientRect();
    const s = getComputedStyle(el);
    return r.width > 0 && r.height > 0 && r.bottom > 0 && s.visibility !== 'hidden' && !el.closest('[hidden], dialog:not([open])');
  };
  const describe = (el) => `${el.tagName.toLowerCase()}${el.id ? `#${el.id}` : ''}${el.className && typeof el.className === 'string' ? `.${el.className.split(' ')[0]}` : ''} "${(el.textContent || '').trim().slice(0, 40)}"`;

  if (!document.documentElement.lang) problems.push('<html> has no lang');
  if (document.querySelectorAll('main').length !== 1) problems.push('not exactly one <main>');
  if (!document.title) problems.push('no <title>');

  for (const el of document.querySelectorAll('input, select, textarea')) {
    if (el.type === 'hidden' || !visible(el)) continue;
    if (!(el.labels && el.labels.length) && !el.getAttribute('aria-label') && !el.getAttribute('aria-labelledby')) problems.push(`unlabelled control ${describe(el)}`);
  }
  for (const el of document.querySelectorAll('button, a[href], [role=button]')) {
    if (!visible(el)) continue;
    const name = (el.getAttribute('aria-label') || el.textContent || el.title || '').trim();
    if (!name) problems.push(`control without a name ${describe(el)}`);
  }
  let last = 0;
  for (const hd of document.querySelectorAll('h1, h2, h3, h4, h5, h6')) {
    if (!visible(hd)) continue;
    const n = Number(hd.tagName[1]);
    if (last && n > last + 1) problems.push(`heading level jumps from h${last} to h${n}: ${describe(hd)}`);
    last = n;
  }

  const parse = (c) => {
    const m = c.match(/rgba?\(([^)]+)\)/);
    if (!m) return null;
    const p = m[1].split(/[\s,/]+/).filter(Boolean).map(Number);
    return { r: p[0], g: p[1], b: p[2], a: p.length > 3 ? p[3] : 1 };
  };
  const lum = ({ r, g, b }) => {
    const f = (x) => {
      x /= 255;
      return x <= 0.03928 ? x / 12.92 : ((x + 0.055) / 1.055) ** 2.4;
    };
    return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
  };
  const blend = (top, under) => ({
    r: top.r * top.a + under.r * (1 - top.a), g: top.g * top.a + under.g * (1 - top.a), b: top.b * top.a + under.b * (1 - top.a), a: 1,
  });
  const background = (el) => {
    const layers = [];
    for (let e = el; e; e = e.parentElement) {
      const c = parse(getComputedStyle(e).backgroundColor);
      if (c && c.a > 0) {
        layers.push(c);
        if (c.a >= 1) break;
      }
    }
    let bg = { r: 255, g: 255, b: 255, a: 1 };
    const root = parse(getComputedStyle(document.documentElement).backgroundColor);
    if (root && root.a >= 1) bg = root;
    for (const l of layers.reverse()) bg = blend(l, bg);
    return bg;
  };
  const seen = new Set();
  for (const el of document.querySelectorAll('body *')) {
    if (!visible(el) || el.closest('.uplot, svg, canvas')) continue;
    if (el.matches(':disabled') || el.closest(':disabled')) continue; // WCAG 1.4.3 exempts inactive controls
    const hasText = [...el.childNodes].some((n) => n.nodeType === 3 && n.textContent.trim());
    if (!hasText) continue;
    const s = getComputedStyle(el);
    const fg = parse(s.color);
    if (!fg) continue;
    const bg = background(el);
    const f = blend(fg, bg);
    const [hi, lo] = [lum(f), lum(bg)].sort((a, b) => b - a);
    const ratio = (hi + 0.05) / (lo + 0.05);
    const size = parseFloat(s.fontSize);
    const large = size >= 24 || (size >= 18.66 && Number(s.fontWeight) >= 700);
    const need = large ? 3 : 4.5;
    const key = `${s.color}|${JSON.stringify(bg)}|${need}`;
    if (ratio + 1e-6 < need && !seen.has(key)) {
      seen.add(key);
      problems.push(`contrast ${ratio.toFixed(2)} < ${need} for ${describe(el)} (${s.color} on rgb(${Math.round(bg.r)}, ${Math.round(bg.g)}, ${Math.round(bg.b)}))`);
    }
  }
  const doc = document.scrollingElement;
  if (doc.scrollWidth > doc.clientWidth + 1) problems.push(`the page scrolls sideways: ${doc.scrollWidth} px wide in a ${doc.clientWidth} px viewport`);
  return problems;
}

export async function audit(page) {
  return page.evaluate(inPage);
}
