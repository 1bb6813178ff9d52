// tests/dashboard/browser_static.mjs — the dashboard in headless Chromium at a laptop
// and a phone width, light and dark: it loads from the server (CSP on, nothing from
// another origin), the overview and two vigy pages render, accessibility basics hold
// (labels, names, contrast, headings, no sideways scrolling), the dark theme follows
// prefers-color-scheme, and no console error, page error, failed request or error
// response happens. Screenshots: overview, one vigy, the failing vigy; light and dark;
// the overview and a vigy at phone width.
//   node browser_static.mjs [options of lib/browser.mjs]
import { audit } from './lib/audit.mjs';
import { harness, launch, openPage, parseArgs, startTarget, waitForDom } from './lib/browser.mjs';

const opts = parseArgs();
const { check, checkEqual, run } = await harness(opts);

async function checkPage(p, what) {
  const a = await audit(p.page);
  checkEqual(a, [], `${what}: accessibility basics`);
}

run(async () => {
  const server = await startTarget(opts);
  const { browser, close } = await launch(opts);
  try {
    for (const dark of [false, true]) {
      const theme = dark ? 'dark' : 'light';
      const p = await openPage(browser, opts, { dark });
      await p.page.goto(`${server.url}/`, { waitUntil: 'load' });
      await waitForDom(p.page, () => document.querySelectorAll('#vigies-table tbody tr').length >= 4 && document.querySelector('#conn').textContent === 'Live', null, 'four rows and live streams');
      await waitForDom(p.page, () => [...document.querySelectorAll('#vigies-table tbody tr')].filter((r) => r.querySelector('[data-seq]')?.dataset.seq).length >= 3, null, 'the last runs');
      checkEqual(await p.page.$$eval('#vigies-table tbody tr th a', (as) => as.map((a) => a.textContent)), ['failing', 'hello', 'nightly-report', 'paused'], `${theme}: rows sorted by name`);
      const bg = await p.page.evaluate(() => getComputedStyle(document.documentElement).backgroundColor);
      check(dark ? bg === 'rgb(15, 20, 25)' : bg === 'rgb(255, 255, 255)', `${theme}: the page background follows prefers-color-scheme`, bg);
      await checkPage(p, `overview ${theme}`);
      await p.screenshot(`overview-${theme}`);

      await p.page.click('a.vigy-link[href="#/vigies/hello"]');
      await waitForDom(p.page, () => document.querySelectorAll('#runs-table tbody tr.run').length > 3 && Number(document.querySelector('#chart-duration').dataset.points) > 3, null, 'hello: runs and a plot');
      checkEqual(await p.page.$eval('h1', (e) => e.textContent), 'hello', `${theme}: the vigy page's heading`);
      check(await p.page.evaluate(() => document.activeElement === document.querySelector('h1')), `${theme}: after navigating, the heading has the focus`);
      await checkPage(p, `vigy hello ${theme}`);
      await p.screenshot(`vigy-hello-${theme}`);

      await p.page.goto(`${server.url}/#/vigies/failing`, { waitUntil: 'load' });
      await waitForDom(p.page, () => document.querySelector('.last-error:not([hidden]) .line-link'), null, 'failing: the error and its line link');
      await p.page.click('.last-error .line-link');
      await waitForDom(p.page, () => document.querySelector('pre.source .line.hl'), null, 'the highlighted line');
      await checkPage(p, `vigy failing ${theme}`);
      await p.screenshot(`vigy-failing-${theme}`);
      checkEqual(p.problems(), [], `${theme}: no console errors, failed requests or error responses`);
      await p.page.close();
    }

    // Phone width: one column, table rows become cards, nothing scrolls sideways.
    const p = await openPage(browser, opts, { width: 390, height: 844 });
    await p.page.goto(`${server.url}/`, { waitUntil: 'load' });
    await waitForDom(p.page, () => document.querySelectorAll('#vigies-table tbody tr').length >= 4, null, 'rows at phone width');
    checkEqual(await p.page.$eval('#vigies-table tbody tr', (r) => getComputedStyle(r).display), 'block', 'phone: rows are cards');
    await checkPage(p, 'overview phone');
    await p.screenshot('overview-phone-light');
    await p.page.goto(`${server.url}/#/vigies/hello`, { waitUntil: 'load' });
    await waitForDom(p.page, () => Number(document.querySelector('#chart-duration')?.dataset.points) > 3, null, 'phone: a plot');
    const cols = await p.page.$eval('.vigy-body', (e) => getComputedStyle(e).gridTemplateColumns.split(' ').length);
    checkEqual(cols, 1, 'phone: the vigy page is one column');
    await checkPage(p, 'vigy phone');
    await p.screenshot('vigy-hello-phone-light');
    checkEqual(p.problems(), [], 'phone: no console errors, failed requests or error responses');
    console.log(`screenshots in ${opts.out}`);
  } finally {
    await close();
    await server.stop();
  }
});
