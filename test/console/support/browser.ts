import { mkdir } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { type Browser, chromium, type Page } from 'playwright-core';

/** Debian's headless Chromium (`apt-get install chromium`), or CHROMIUM_PATH. */
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** Starts headless Chromium (no sandbox: CI runs as root). */
export function launchBrowser(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox'] });
}

const screenshots = fileURLToPath(new URL('../../../docs/guides/console/', import.meta.url));

/**
 * Saves a screenshot for docs/guides/console.md, only when ANNALS_SCREENSHOTS=1: an ordinary run
 * never writes into the checkout.
 */
export async function screenshot(page: Page, name: string): Promise<void> {
  if (process.env.ANNALS_SCREENSHOTS !== '1') return;
  await mkdir(screenshots, { recursive: true });
  await page.screenshot({ path: `${screenshots}${name}.png`, fullPage: false });
}

/**
 * Marks the page's window; `stillSamePage` then tells whether the page was never reloaded or
 * navigated away from (a reload makes a new window without the mark).
 */
export async function markPage(page: Page): Promise<() => Promise<boolean>> {
  await page.evaluate(() => {
    (globalThis as unknown as { __annalsMark: boolean }).__annalsMark = true;
  });
  return () =>
    page.evaluate(() => (globalThis as unknown as { __annalsMark?: boolean }).__annalsMark === true);
}

/** What markup in events would have set, had the page run it (undefined: nothing ran). */
export function xssMarker(page: Page): Promise<unknown> {
  return page.evaluate(() => (globalThis as unknown as { __xss?: unknown }).__xss);
}
