// Opens the agent's live cost page in a real Chromium (Debian's `chromium`, driven by
// playwright-core) and reads the reconciliation panel once it shows a comparison.
//
//   node tests/node/reconciliation_panel.mjs --url http://127.0.0.1:PORT/ --screenshot FILE
//
// Prints one line `PANEL {json}` with the panel's rows and captions. Exit codes: 0 success,
// 3 playwright-core is missing, 1 otherwise. Used by tests/reconcile.rs.

import { parseArgs } from 'node:util';
import { launchChromium } from './browser.mjs';

const { values } = parseArgs({
  options: { url: { type: 'string' }, screenshot: { type: 'string' } },
});

const browser = await launchChromium();
try {
  const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
  const requests = [];
  page.on('request', (request) => requests.push(request.url()));
  await page.goto(values.url);
  await page.waitForFunction(
    () => !document.getElementById('reconciliation').hidden
      && document.querySelectorAll('#reconciliation-rows tr').length > 1,
    null,
    { timeout: 15000 },
  );
  const rows = await page.$$eval('#reconciliation-rows tr', (trs) =>
    trs.map((tr) => [...tr.children].map((cell) => cell.textContent.trim())));
  const window = (await page.textContent('#reconciliation-window')).trim();
  await page.locator('#reconciliation').screenshot({ path: values.screenshot });
  const elsewhere = requests.filter((url) => !url.startsWith(new URL(values.url).origin));
  console.log('PANEL ' + JSON.stringify({ rows, window, elsewhere }));
} finally {
  await browser.close();
}
