// Debian's Chromium driven by playwright-core, for the browser scripts here: exits with code 3
// when playwright-core is missing (`npm ci --prefix tests/node`).

export async function launchChromium() {
  let chromium;
  try {
    ({ chromium } = await import('playwright-core'));
  } catch (error) {
    console.error(`MISSING_NODE_PACKAGES: ${error.message}. Install them with \`npm ci --prefix tests/node\``);
    process.exit(3);
  }
  return chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'],
  });
}
