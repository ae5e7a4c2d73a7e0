// SPDX-License-Identifier: MIT
// The dashboard of envdrift serve in headless Debian chromium, driven by
// playwright-core (run by tests/integration/browser.sh, which serves the store of
// dashboard_fixture.sh). Prints one line per check: "PASS DESC" or "FAIL DESC: WHY".
//
// usage: node dashboard.mjs BASE_URL SCREENSHOT_DIR USER_DATA_DIR EXPECT.json
import fs from 'node:fs';
import path from 'node:path';
import { chromium } from 'playwright-core';

const [base, shots, userDataDir, expectFile] = process.argv.slice(2);
const want = JSON.parse(fs.readFileSync(expectFile, 'utf8'));
let failed = 0;
function check(ok, desc, why) {
  if (ok) {
    console.log(`PASS ${desc}`);
  } else {
    failed++;
    console.log(`FAIL ${desc}: ${String(why).replace(/\s+/g, ' ').slice(0, 600)}`);
  }
}

const requests = [];
const consoleErrors = [];
const dialogs = [];
const ctx = await chromium.launchPersistentContext(userDataDir, {
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  headless: true,
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  viewport: { width: 1280, height: 900 },
  timeout: 60000,
});
try {
  ctx.on('request', (r) => requests.push(r.url()));
  const page = ctx.pages()[0] || (await ctx.newPage());
  page.setDefaultTimeout(20000);
  page.on('console', (m) => { if (m.type() === 'error') consoleErrors.push(m.text()); });
  page.on('pageerror', (e) => consoleErrors.push(String(e)));
  page.on('dialog', async (d) => { dialogs.push(d.message()); await d.dismiss(); });

  // Whatever a hostile name tried to inject: no element of it exists.
  const injected = () => page.evaluate(() => {
    const bad = [];
    for (const s of document.querySelectorAll('script')) {
      if (s.getAttribute('src') !== '/static/app.js') bad.push('script ' + s.outerHTML.slice(0, 80));
    }
    for (const sel of ['img', 'textarea', 'iframe', 'object', 'embed', 'b', 'svg[onload]']) {
      for (const e of document.querySelectorAll(sel)) bad.push(sel + ' ' + e.outerHTML.slice(0, 80));
    }
    for (const e of document.querySelectorAll('*')) {
      for (const a of e.getAttributeNames()) if (/^on/i.test(a)) bad.push(`attribute ${a} on ${e.tagName}`);
    }
    return bad;
  });
  const ready = () => page.waitForSelector('body[data-ready="1"]', { state: 'attached' });

  // --- the overview ---
  await page.goto(base + '/');
  await ready();
  await page.screenshot({ path: path.join(shots, 'overview.png'), fullPage: true });
  const row = page.locator('tr.pair[data-cand="staging"]');
  const counts = await row.evaluate((tr) => ({
    verdict: tr.dataset.verdict, drift: +tr.dataset.drift, blocking: +tr.dataset.blocking,
    warn: +tr.dataset.warn, info: +tr.dataset.info, ignored: +tr.dataset.ignored,
    shown: Array.from(tr.querySelectorAll('td.n')).map((td) => +td.textContent),
  }));
  check(counts.drift === want.drift && counts.blocking === want.blocking &&
        counts.warn === want.warn && counts.info === want.info && counts.ignored === want.ignored,
  'overview: the pair\'s counts are the CLI\'s', JSON.stringify({ counts, want }));
  check(JSON.stringify(counts.shown) ===
        JSON.stringify([want.drift, want.blocking, want.warn, want.info, want.ignored]),
  'overview: the cells show those counts', JSON.stringify(counts.shown));
  const hostText = await page.locator('section.env[data-env="staging"] tr.host a').first().textContent();
  check(hostText === want.host_staging, 'overview: the hostile host name reads as text',
    JSON.stringify(hostText));
  let bad = await injected();
  check(bad.length === 0, 'overview: nothing injected', bad.join(', '));

  // --- into the pair ---
  await row.locator('a[href^="/diff"]').click();
  await page.waitForURL(/\/diff\?/);
  await ready();
  const rows = page.locator('#items tr.item');
  check(await rows.count() === want.n_all, 'pair: one row per entry of the CLI',
    `${await rows.count()} rows, want ${want.n_all}`);
  const countsText = await page.locator('#counts').textContent();
  check(countsText.includes(`${want.drift} difference`), 'pair: the counts line', countsText);
  bad = await injected();
  check(bad.length === 0, 'pair: nothing injected', bad.join(', '));
  await page.screenshot({ path: path.join(shots, 'pair.png'), fullPage: true });

  // filter by kind, as you click (the script): none, then file again
  const kindBox = page.locator('#filters input[name="kind"][value="file"]');
  await kindBox.uncheck();
  let visible = await page.locator('#items tr.item[data-visible="1"]').count();
  check(visible === want.n_all - want.n_file, 'pair: unticking kind file hides its rows',
    `${visible} visible`);
  await kindBox.check();
  visible = await page.locator('#items tr.item[data-visible="1"]').count();
  check(visible === want.n_all, 'pair: ticking it shows them again', `${visible} visible`);

  // search a key, as you type, then through the form (the server filters)
  await page.fill('#q', 'a.conf');
  visible = await page.locator('#items tr.item[data-visible="1"]').count();
  check(visible === want.n_aconf, 'pair: typing a key filters the rows', `${visible} visible`);
  const shownText = await page.locator('#shown').textContent();
  check(shownText === `${want.n_aconf} of ${want.n_all} shown`, 'pair: the counter agrees', shownText);
  await Promise.all([page.waitForURL(/q=a\.conf/), page.press('#q', 'Enter')]);
  await ready();
  check(await rows.count() === want.n_aconf, 'pair: the GET form lists only the matching rows',
    `${await rows.count()} rows`);

  // open a unified diff: closed, then opened; its hostile line is text
  const det = page.locator('#items details.diff').first();
  await det.locator('summary').click();
  check(!(await det.evaluate((d) => d.open)), 'pair: a unified diff closes', 'still open');
  await det.locator('summary').click();
  check(await det.evaluate((d) => d.open), 'pair: and opens again', 'closed');
  const added = await det.locator('span.add').allTextContents();
  check(added.some((t) => t.includes('<script>alert(1)</script>"onerror=alert(2)')),
    'pair: the hostile config value shows as text in the diff', JSON.stringify(added));
  await page.screenshot({ path: path.join(shots, 'unified-diff.png'), fullPage: true });

  // --- history ---
  await page.click('nav.top a[href="/history"]');
  await page.waitForURL(/\/history/);
  await ready();
  const days = await page.locator('svg#chart g.day').count();
  check(days === want.days, 'history: one bar per day in the SVG chart', `${days} bars`);
  const trendRows = await page.locator('#trend tbody tr').count();
  check(trendRows === want.days, 'history: and one table row per day', `${trendRows} rows`);
  bad = await injected();
  check(bad.length === 0, 'history: nothing injected', bad.join(', '));
  await page.screenshot({ path: path.join(shots, 'history.png'), fullPage: true });

  // --- a hostile host's page ---
  await page.goto(base + '/');
  await ready();
  await page.locator('section.env[data-env="staging"] tr.host a').first().click();
  await page.waitForURL(/\/host\//);
  await ready();
  const h1 = await page.locator('main h1').textContent();
  check(h1.startsWith(want.host_staging), 'host: the hostile name is the heading\'s text', h1);
  await page.fill('#prefix', '/etc/app/a');
  await Promise.all([page.waitForURL(/prefix=/), page.press('#prefix', 'Enter')]);
  await ready();
  const items = await page.locator('#items tr.item').count();
  check(items === 1, 'host: searching by key prefix', `${items} items`);
  bad = await injected();
  check(bad.length === 0, 'host: nothing injected', bad.join(', '));
  await page.screenshot({ path: path.join(shots, 'host.png'), fullPage: true });

  // --- over all pages ---
  check(dialogs.length === 0, 'no dialog fired', dialogs.join(' | '));
  check(consoleErrors.length === 0, 'no console error', consoleErrors.join(' | '));
  const away = requests.filter((u) => !u.startsWith(base + '/'));
  check(requests.length > 0 && away.length === 0, `every request (${requests.length}) went to ${base}`,
    away.join(' '));
  fs.writeFileSync(path.join(shots, 'requests.txt'), requests.join('\n') + '\n');
} catch (e) {
  check(false, 'the browser session ran to its end', e && e.stack ? e.stack : e);
} finally {
  await ctx.close();
}
process.exit(failed ? 1 : 0);
