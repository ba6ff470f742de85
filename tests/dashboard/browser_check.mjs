// Drives the skyd dashboard in headless Debian Chromium (playwright-core, no downloaded browser).
// Usage: node browser_check.mjs URL JOB_ID RELEASE_FILE SCREENSHOT_DIR
//   The job must be waiting for RELEASE_FILE. Checks: the queue lists the job as RUNNING; after
//   RELEASE_FILE is created the same page (no reload) shows SUCCEEDED; the job page shows the
//   timeline and the logs. Screenshots go to SCREENSHOT_DIR. Exits non-zero on any failure.
import { chromium } from 'playwright-core';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const [url, jobId, releaseFile, screenshots] = process.argv.slice(2);
const WAIT = { timeout: 30000 };
const profile = mkdtempSync(join(tmpdir(), 'skyd-chromium-'));
// A fresh profile each run; Playwright passes it as --user-data-dir itself.
const browser = await chromium.launchPersistentContext(profile, {
  executablePath: '/usr/bin/chromium',
  headless: true,
  viewport: { width: 1400, height: 900 },
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
         '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
let failed = false;
const page = browser.pages()[0] ?? await browser.newPage();
const problems = [];
page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
page.on('console', (message) => {
  if (message.type() === 'error') problems.push(`console error: ${message.text()}`);
});
try {
  await page.goto(url);
  await page.waitForSelector('h1, header .brand', WAIT);
  if ((await page.title()) !== 'skyd managed jobs') throw new Error(`title: ${await page.title()}`);

  const status = `#jobs tr[data-job="${jobId}"] td.status`;
  await page.waitForSelector(`${status}[data-status="RUNNING"]`, WAIT);
  console.log(`queue shows job ${jobId} RUNNING`);
  // A marker in the page's window survives only if the page is never reloaded.
  await page.evaluate(() => { window.skydNoReload = true; });
  await page.screenshot({ path: join(screenshots, 'dashboard-running.png'), fullPage: true });

  writeFileSync(releaseFile, 'go\n');
  await page.waitForSelector(`${status}[data-status="SUCCEEDED"]`, WAIT);
  if (!(await page.evaluate(() => window.skydNoReload === true)))
    throw new Error('the page was reloaded');
  console.log(`queue shows job ${jobId} SUCCEEDED without a reload`);

  await page.click(`#jobs tr[data-job="${jobId}"] a`);
  await page.waitForSelector('#job-status[data-status="SUCCEEDED"]', WAIT);
  await page.waitForSelector('#timeline td.status[data-status="RUNNING"]', WAIT);
  await page.waitForFunction(() => document.querySelector('#logs').textContent.includes('released'),
                             null, WAIT);
  const cost = await page.textContent('#job-cost');
  if (!/^\$\d+\.\d{4}$/.test(cost)) throw new Error(`cost: ${cost}`);
  console.log(`job page shows the timeline, logs and cost ${cost}`);
  await page.screenshot({ path: join(screenshots, 'dashboard-job.png'), fullPage: true });
  if (problems.length) throw new Error(problems.join('\n'));
} catch (error) {
  failed = true;
  console.error(`FAILED: ${error.message}`);
  await page.screenshot({ path: join(screenshots, 'dashboard-failure.png'), fullPage: true })
    .catch(() => {});
} finally {
  await browser.close();
  rmSync(profile, { recursive: true, force: true });
}
process.exit(failed ? 1 : 0);
