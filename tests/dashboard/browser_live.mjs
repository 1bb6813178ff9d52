// tests/dashboard/browser_live.mjs — what the dashboard does with real data, in headless
// Chromium: the overview lists the vigies with the right states and condition chips; a
// new run appears live without a reload (overview and vigy page); the label selector
// filters through the server (a malformed one shows the server's error); the failing
// vigy's page shows the error and its line link highlights the program line; "tick now"
// produces a run; the plots draw points (duration, lateness, the program's metric);
// enable / disable change the state; delete asks first; keyboard-only navigation
// reaches every control. No console error, failed request or unexpected error response.
//   node browser_live.mjs [options of lib/browser.mjs]   (--target vigy for a real server)
import { FAILING_LINE, harness, launch, openPage, parseArgs, startTarget, waitForDom } from './lib/browser.mjs';

const opts = parseArgs();
const { check, checkEqual, run } = await harness(opts);

/** Tabs through the page; returns the descriptions of focusable controls never reached. */
async function unreachedByTab(page, maxTabs = 400) {
  await page.evaluate(() => {
    let n = 0;
    for (const el of document.querySelectorAll('a[href], button, input, select, textarea, [tabindex]')) el.dataset.kb = String(n++);
    window.__reached = new Set();
    window.__first = null;
    document.addEventListener('focusin', (e) => {
      if (!e.target.dataset) return;
      window.__first ??= e.target.dataset.kb;
      window.__reached.add(e.target.dataset.kb);
    }, true);
  });
  // Tab until the focus comes back round to where it started.
  for (let i = 0; i < maxTabs; i++) {
    await page.keyboard.press('Tab');
    const done = await page.evaluate(() => window.__reached.size > 1 && document.activeElement?.dataset.kb === window.__first);
    if (done) break;
  }
  return page.evaluate(() => {
    const visible = (el) => {
      const r = el.getBoundingClientRect();
      return (r.width > 0 && r.height > 0) && !el.closest('[hidden], dialog:not([open])') && getComputedStyle(el).visibility !== 'hidden';
    };
    return [...document.querySelectorAll('[data-kb]')]
      .filter((el) => el.tabIndex >= 0 && !el.disabled && visible(el) && !el.matches('.skip-link'))
      .filter((el) => !window.__reached.has(el.dataset.kb))
      .map((el) => `${el.tagName.toLowerCase()}${el.id ? `#${el.id}` : ''} "${(el.textContent || el.getAttribute('aria-label') || '').trim().slice(0, 30)}"`);
  });
}

const rowState = (page, name) => page.$eval(`#vigies-table tr[data-name="${name}"]`, (r) => r.dataset.state).catch(() => null);
const lastSeq = (page, name) => page.$eval(`#vigies-table tr[data-name="${name}"] td[data-seq]`, (c) => Number(c.dataset.seq || 0)).catch(() => 0);

run(async () => {
  const server = await startTarget(opts);
  const { browser, close } = await launch(opts);
  try {
    // A malformed selector is answered 400 by the server; that one response is expected.
    const p = await openPage(browser, opts, { allow: [{ status: 400, url: /\/v1\/vigies\?.*label_selector=/ }] });
    const { page } = p;
    await page.goto(`${server.url}/`, { waitUntil: 'load' });
    await page.evaluate(() => (window.__sameDocument = true));

    // ---- overview: states and chips ---------------------------------------------------------
    await waitForDom(page, () => document.querySelectorAll('#vigies-table tbody tr').length === 4, null, 'four vigies');
    await waitForDom(page, () => document.querySelector('tr[data-name="failing"]')?.dataset.state === 'Degraded', null, 'failing to be Degraded', 30000);
    checkEqual(await rowState(page, 'hello'), 'Enabled', 'hello is Enabled');
    checkEqual(await rowState(page, 'paused'), 'Disabled', 'paused is Disabled');
    await waitForDom(page, () => document.querySelector('tr[data-name="nightly-report"]')?.dataset.state === 'Completed', null, 'the one-shot to be Completed', 20000);
    await waitForDom(page, () => document.querySelectorAll('tr[data-name="hello"] .chip.cond').length === 3, null, "hello's three condition chips");
    checkEqual(await page.$$eval('tr[data-name="hello"] .chip.cond', (cs) => cs.map((c) => `${c.dataset.type}=${c.dataset.status}:${c.className}`)),
      ['Ready=True:chip cond cond-True', 'Stalled=False:chip cond cond-False', 'Synced=Unknown:chip cond cond-Unknown'], 'chips: status and colour class per condition');
    checkEqual(await page.$eval('tr[data-name="failing"] td[data-seq]', (c) => c.dataset.result), 'failed', "failing's last run failed");
    checkEqual(await page.$$eval('.counts button', (bs) => bs.map((b) => b.textContent)), ['All 4', 'Enabled 1', 'Disabled 1', 'Degraded 1', 'Completed 1'], 'counts by state');

    // ---- a new run appears live, without a reload -------------------------------------------
    const before = await lastSeq(page, 'hello');
    await waitForDom(page, (b) => Number(document.querySelector('tr[data-name="hello"] td[data-seq]')?.dataset.seq) > b, before, "a new run of hello on the overview", 15000);
    check(await page.evaluate(() => window.__sameDocument === true), 'the overview updated without a reload');

    // ---- label selector (parsed by the server) and text search ------------------------------
    await page.type('#filter-selector', 'tier=web');
    await page.keyboard.press('Enter');
    await waitForDom(page, () => document.querySelectorAll('#vigies-table tbody tr').length === 1, null, 'only the selected vigy');
    checkEqual(await page.$$eval('#vigies-table tbody tr', (rs) => rs.map((r) => r.dataset.name)), ['hello'], 'tier=web selects hello');
    await page.click('#filter-selector', { clickCount: 3 });
    await page.type('#filter-selector', 'tier in (web');
    await page.keyboard.press('Enter');
    await waitForDom(page, () => document.querySelector('#filter-selector-error')?.textContent.length > 0, null, 'the selector error');
    check(await page.$eval('#filter-selector', (i) => i.getAttribute('aria-invalid') === 'true'), 'the bad selector is marked invalid');
    await page.click('#filter-selector', { clickCount: 3 });
    await page.keyboard.press('Backspace');
    await page.keyboard.press('Enter');
    await waitForDom(page, () => document.querySelectorAll('#vigies-table tbody tr').length === 4, null, 'all four again');
    await page.type('#filter-text', 'pause');
    await waitForDom(page, () => document.querySelectorAll('#vigies-table tbody tr').length === 1, null, 'the text filter');
    await page.click('#filter-text', { clickCount: 3 });
    await page.keyboard.press('Backspace');
    await waitForDom(page, () => document.querySelectorAll('#vigies-table tbody tr').length === 4, null, 'all four after clearing the search');

    // ---- sorting by a column header (keyboard) -----------------------------------------------
    await page.focus('button.sort[data-sort="name"]');
    await page.keyboard.press('Enter');
    checkEqual(await page.$eval('button.sort[data-sort="name"]', (b) => b.closest('th').getAttribute('aria-sort')), 'descending', 'Enter on the Name header sorts descending');
    checkEqual(await page.$$eval('#vigies-table tbody tr', (rs) => rs.map((r) => r.dataset.name)), ['paused', 'nightly-report', 'hello', 'failing'], 'rows in descending order');
    await page.keyboard.press('Enter');

    // ---- keyboard reaches every control of the overview --------------------------------------
    checkEqual(await unreachedByTab(page), [], 'overview: Tab reaches every control');

    // ---- open hello with the keyboard ---------------------------------------------------------
    await page.focus('a.vigy-link[href="#/vigies/hello"]');
    await page.keyboard.press('Enter');
    await waitForDom(page, () => document.querySelector('h1')?.textContent === 'hello' && document.querySelectorAll('#runs-table tr.run').length > 2, null, "hello's page with runs");
    check(await page.evaluate(() => window.__sameDocument === true), 'opening a vigy does not reload the page');

    // live tail on the vigy page
    const top = await page.$eval('#runs-table tr.run', (r) => Number(r.dataset.seq));
    await waitForDom(page, (t) => Number(document.querySelector('#runs-table tr.run')?.dataset.seq) > t, top, 'a new run at the top of the runs table', 15000);

    // plots draw points, on a canvas that is not blank
    await waitForDom(page, () => Number(document.querySelector('#chart-duration')?.dataset.points) >= 3 && Number(document.querySelector('#chart-lateness')?.dataset.points) >= 3, null, 'duration and lateness points');
    await waitForDom(page, () => Number(document.querySelector('#chart-metric-queue_depth')?.dataset.points) >= 3, null, 'the queue_depth metric plot');
    const inked = await page.$$eval('figure.chart canvas', (cs) => cs.map((c) => {
      const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
      let n = 0;
      for (let i = 3; i < d.length; i += 4) if (d[i] > 0) n++;
      return n;
    }));
    check(inked.length >= 3 && inked.every((n) => n > 200), 'every chart canvas has ink', JSON.stringify(inked));

    // tick now produces a run
    await page.click('#action-tick');
    await waitForDom(page, () => /^Tick \d+: ok/.test(document.querySelector('.action-message')?.textContent || ''), null, 'the tick result');
    const forcedSeq = Number((await page.$eval('.action-message', (m) => m.textContent)).match(/^Tick (\d+)/)[1]);
    checkEqual(await page.$eval(`#runs-table tr.run[data-seq="${forcedSeq}"] td:nth-child(3)`, (t) => t.textContent).catch(() => null), 'forced', 'the forced run is in the table');

    // a run expands to every buffer, with the keyboard
    await page.focus(`#runs-table tr.run[data-seq="${forcedSeq}"] button.disclosure`);
    await page.keyboard.press('Enter');
    await waitForDom(page, (s) => !document.getElementById(`run-${s}-detail`).hidden, forcedSeq, 'the run details');
    const bufferTitles = await page.$$eval(`#run-${forcedSeq}-detail .buffer h3`, (hs) => hs.map((x) => x.textContent));
    check(['Run', 'Log', 'Actions', 'Conditions', 'Metrics'].every((t) => bufferTitles.includes(t)), 'the details show the buffers', JSON.stringify(bufferTitles));
    checkEqual(await unreachedByTab(page), [], 'vigy page: Tab reaches every control');

    // ---- the failing vigy: error and highlighted line ----------------------------------------
    await page.goto(`${server.url}/#/vigies/failing`, { waitUntil: 'load' });
    await waitForDom(page, () => document.querySelector('.last-error:not([hidden]) .line-link'), null, "failing's error with a line link");
    checkEqual(await page.$eval('.last-error .line-link', (a) => Number(a.dataset.line)), FAILING_LINE, 'the link names the failing line');
    await page.click('.last-error .line-link');
    await waitForDom(page, () => document.querySelector('pre.source .line.hl'), null, 'a highlighted line');
    checkEqual(await page.$eval('pre.source .line.hl', (l) => Number(l.dataset.line)), FAILING_LINE, 'the highlighted line is the failing one');
    await waitForDom(page, () => document.activeElement?.matches('pre.source .line.hl'), null, 'the highlighted line to take the focus');
    check(await page.$eval('pre.source .line.hl', (l) => l.textContent.includes('frobnicate')), 'the highlighted line shows the failing form');
    check(/#\/vigies\/failing\?line=4$/.test(await page.evaluate(() => location.hash)), 'the line is in the address (a link to it can be shared)');

    // ---- enable / disable ------------------------------------------------------------------------
    await page.goto(`${server.url}/#/vigies/paused`, { waitUntil: 'load' });
    await waitForDom(page, () => document.querySelector('#action-enable') && !document.querySelector('#action-enable').disabled, null, 'Enable available on a disabled vigy');
    check(await page.$eval('#action-disable', (b) => b.disabled), 'Disable is unavailable on a disabled vigy');
    await page.click('#action-enable');
    await waitForDom(page, () => document.querySelector('.title-state')?.textContent.includes('Enabled'), null, 'the state to become Enabled');
    await page.click('#action-disable');
    await waitForDom(page, () => document.querySelector('.title-state')?.textContent.includes('Disabled'), null, 'the state to become Disabled');

    // ---- delete asks first -------------------------------------------------------------------------
    await page.goto(`${server.url}/#/vigies/nightly-report`, { waitUntil: 'load' });
    await waitForDom(page, () => document.querySelector('#action-delete') && !document.querySelector('#action-delete').disabled, null, 'Delete available');
    await page.click('#action-delete');
    await waitForDom(page, () => document.querySelector('#confirm-dialog').open, null, 'the confirmation');
    check(await page.evaluate(() => document.activeElement?.textContent === 'Cancel'), 'Cancel has the focus in the confirmation');
    await page.keyboard.press('Escape');
    await waitForDom(page, () => !document.querySelector('#confirm-dialog').open, null, 'the confirmation to close');
    check(await page.evaluate(() => document.activeElement?.id === 'action-delete'), 'the focus returns to Delete');
    await page.click('#action-delete');
    await waitForDom(page, () => document.querySelector('#confirm-dialog').open, null, 'the confirmation again');
    await page.click('#confirm-dialog button.danger');
    await waitForDom(page, () => location.hash === '#/' && document.querySelectorAll('#vigies-table tbody tr').length === 3, null, 'back on the overview without the deleted vigy');
    checkEqual(await page.$$eval('#vigies-table tbody tr', (rs) => rs.map((r) => r.dataset.name)), ['failing', 'hello', 'paused'], 'nightly-report is gone');

    await p.screenshot('live-overview-after');
    checkEqual(p.problems(), [], 'no console errors, failed requests or unexpected error responses');
  } finally {
    await close();
    await server.stop();
  }
});
