// Debian's chromium driven by playwright-core (no downloaded browser), and the steps every UI test needs.
import { existsSync } from 'node:fs';
import { chromium, type Browser, type Page } from 'playwright-core';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const haveChromium = existsSync(CHROMIUM);

export function launch(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'] });
}

export async function signIn(page: Page, baseUrl: string, username: string, password: string): Promise<void> {
  await page.goto(`${baseUrl}/review/`);
  await page.getByLabel('Username').fill(username);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForSelector('header.topbar');
}

/** Mean RGB of a square at the canvas centre, in device pixels. */
export function canvasSample(page: Page, size = 40): Promise<[number, number, number]> {
  return page.evaluate((s) => {
    const c = document.getElementById('scan-canvas') as HTMLCanvasElement;
    const d = c.getContext('2d')!.getImageData(Math.floor(c.width / 2 - s / 2), Math.floor(c.height / 2 - s / 2), s, s).data;
    const sum = [0, 0, 0];
    for (let i = 0; i < d.length; i += 4) for (let k = 0; k < 3; k++) sum[k]! += d[i + k]!;
    return sum.map((v) => Math.round(v / (d.length / 4))) as [number, number, number];
  }, size);
}

export function waitForFullPaint(page: Page): Promise<unknown> {
  return page.waitForFunction(() => document.getElementById('scan-canvas')?.dataset.complete === 'true', undefined, { timeout: 20_000 });
}
