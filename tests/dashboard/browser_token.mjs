// tests/dashboard/browser_token.mjs — the dashboard with the token rule on, in headless
// Chromium: the page itself loads without a token; the first /v1 request is answered 401
// and the token prompt opens; a wrong token is refused (the prompt says so and stays); the
// right one makes the page work, is kept in sessionStorage (not localStorage, no cookie)
// and is sent as a bearer header on every request, the watch streams included; a reload
// in the same tab needs no prompt; "Forget token" removes it.
//   node browser_token.mjs [options of lib/browser.mjs]
import { harness, launch, openPage, parseArgs, startTarget, waitForDom } from './lib/browser.mjs';

const opts = parseArgs();
const { check, checkEqual, run } = await harness(opts);
const TOKEN = 'dashboard-test-token-0123456789';

run(async () => {
  const server = await startTarget(opts, { token: TOKEN });
  const { browser, close } = await launch(opts);
  try {
    // 401s are the point of this test: allowed for /v1 until the right token is in.
    const p = await openPage(browser, opts, { allow: [{ status: 401, url: /\/v1\// }] });
    const { page } = p;
    const requests = [];
    page.on('request', (r) => {
      if (new URL(r.url()).pathname.startsWith('/v1/')) requests.push({ url: r.url(), auth: r.headers().authorization || null });
    });
    const assets = [];
    page.on('response', (r) => {
      if (!new URL(r.url()).pathname.startsWith('/v1/')) assets.push(r.status());
    });

    await page.goto(`${server.url}/`, { waitUntil: 'load' });
    await waitForDom(page, () => document.querySelector('#token-dialog').open, null, 'the token prompt');
    check(assets.length >= 3 && assets.every((s) => s === 200), 'the page, script and styles load without a token', JSON.stringify(assets));
    check(await page.evaluate(() => document.activeElement?.id === 'token-input'), 'the token field has the focus');
    checkEqual(await page.$eval('#token-input', (i) => i.type), 'password', 'the token is typed into a password field');

    await page.type('#token-input', 'wrong-token-wrong-token');
    await page.keyboard.press('Enter');
    await waitForDom(page, () => document.querySelector('#token-dialog').open && /refused/.test(document.querySelector('#token-reason').textContent), null, 'the prompt again, saying the token was refused');

    await page.type('#token-input', TOKEN);
    await page.keyboard.press('Enter');
    await waitForDom(page, () => !document.querySelector('#token-dialog').open && document.querySelectorAll('#vigies-table tbody tr').length === 4, null, 'the overview after the right token');
    await waitForDom(page, () => document.querySelector('#conn').textContent === 'Live', null, 'both watch streams open');
    checkEqual(await page.evaluate(() => [sessionStorage.getItem('vigy.token'), localStorage.length, document.cookie]), [TOKEN, 0, ''], 'the token is in sessionStorage only');

    const since = requests.findIndex((r) => r.auth === `Bearer ${TOKEN}`);
    check(since >= 0, 'requests carry the bearer token');
    const after = requests.slice(since);
    checkEqual(after.filter((r) => r.auth !== `Bearer ${TOKEN}`).map((r) => r.url), [], 'every request after the token carries it');
    check(after.some((r) => r.url.includes('/v1/watch/runs')), 'the runs watch is opened with the token');
    check(after.some((r) => /\/v1\/vigies\?.*watch=true/.test(r.url)), 'the vigies watch is opened with the token');

    // A reload in the same tab: no prompt, and no 401 at all.
    const p401 = [];
    page.on('response', (r) => r.status() === 401 && p401.push(r.url()));
    await page.reload({ waitUntil: 'load' });
    await waitForDom(page, () => document.querySelectorAll('#vigies-table tbody tr').length === 4, null, 'the overview after a reload');
    check(!(await page.$eval('#token-dialog', (d) => d.open)), 'no prompt after a reload');
    checkEqual(p401, [], 'no 401 after a reload');
    await p.screenshot('token-overview');

    // Forget the token: the next load prompts again.
    await Promise.all([page.waitForNavigation({ waitUntil: 'load' }), page.click('#token-forget')]);
    await waitForDom(page, () => document.querySelector('#token-dialog').open, null, 'the prompt after forgetting the token');
    checkEqual(await page.evaluate(() => sessionStorage.getItem('vigy.token')), null, 'the token is gone');
    await p.screenshot('token-prompt');

    // Cancelling the prompt leaves a way back to it.
    await page.keyboard.press('Escape');
    await waitForDom(page, () => !document.querySelector('#banner').hidden, null, 'the banner after cancelling');
    await page.click('#banner button');
    await waitForDom(page, () => document.querySelector('#token-dialog').open, null, 'the prompt from the banner');
    await page.type('#token-input', TOKEN);
    await page.keyboard.press('Enter');
    await waitForDom(page, () => document.querySelectorAll('#vigies-table tbody tr').length === 4, null, 'the overview after entering the token from the banner');
    checkEqual(p.problems(), [], 'no console errors, failed requests or error responses other than the 401s');
  } finally {
    await close();
    await server.stop();
  }
});
