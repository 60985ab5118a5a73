// Opens the agent's live cost page in a real Chromium (Debian's `chromium`, driven by
// playwright-core), waits for the figures, reads what a person would see, sorts a table, switches
// the window, and takes a screenshot.
//
//   node tests/node/live_page.mjs --url http://127.0.0.1:PORT/ --screenshot FILE
//
// Prints one line `PAGE {json}` with the page's text. Exit codes: 0 success, 3 playwright-core
// is missing, 1 otherwise. Used by tests/live_page.rs.

import { parseArgs } from 'node:util';
import { launchChromium } from './browser.mjs';

const { values } = parseArgs({
  options: { url: { type: 'string' }, screenshot: { type: 'string' } },
});

/** The rows of table `selector` as arrays of cell texts (the header row first). */
function rows(page, selector) {
  return page.$$eval(`${selector} tr`, (trs) =>
    trs.map((tr) => [...tr.children].map((cell) => cell.textContent.trim())),
  );
}

const FIGURES = [
  'cost', 'calls', 'cost-average', 'cost-p95', 'tokens-per-unit', 'cache-hit-rate',
  'cache-savings', 'output-input', 'failed', 'failed-cost', 'throttled', 'pareto', 'duplicates',
];

const browser = await launchChromium();
try {
  const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
  const requests = [];
  page.on('request', (request) => requests.push(request.url()));
  await page.goto(values.url);
  await page.waitForFunction(() => document.body.dataset.loaded === '15m', null, { timeout: 15000 });
  const figures = {};
  for (const id of FIGURES) {
    figures[id] = (await page.textContent(`#${id}`)).trim();
  }
  const topCalls = await rows(page, '#top-calls');
  const traceLink = await page.getAttribute('#top-calls tr:nth-child(2) a', 'href');
  const spendByTeam = await rows(page, '#spend-team');
  const unpriced = await rows(page, '#unpriced');
  // Sorting: a click on a header orders the table by that column, largest first; a second
  // click, smallest first.
  await page.click('#spend-team th:nth-child(4)');
  await page.click('#spend-team th:nth-child(4)');
  const spendByTeamByCost = await rows(page, '#spend-team');
  await page.screenshot({ path: values.screenshot, fullPage: true });
  // Another window.
  await page.click('#windows button[data-window="24h"]');
  await page.waitForFunction(() => document.body.dataset.loaded === '24h', null, { timeout: 15000 });
  const dayCost = (await page.textContent('#cost')).trim();
  const elsewhere = requests.filter((url) => !url.startsWith(new URL(values.url).origin));
  console.log('PAGE ' + JSON.stringify({
    figures, topCalls, traceLink, spendByTeam, spendByTeamByCost, unpriced, dayCost, elsewhere,
  }));
} finally {
  await browser.close();
}
