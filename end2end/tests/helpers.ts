import { expect, Page, TestInfo } from '@playwright/test';

export const isJs = (testInfo: TestInfo) => testInfo.project.name === 'js';

/** A unique e-mail per test run, so tests never collide on the shared server. */
export function uniqueEmail(prefix: string): string {
  return `${prefix}-${Date.now()}-${Math.floor(Math.random() * 1e9)}@example.com`;
}

/** Waits until the wasm app has taken over the page (no-op with JavaScript off). */
export async function waitForHydration(page: Page, testInfo: TestInfo) {
  if (isJs(testInfo)) {
    await expect(page.locator('html')).toHaveAttribute('data-hydrated', 'true');
  }
}

export async function register(page: Page, testInfo: TestInfo, email: string, name = 'Test Shopper') {
  await page.goto('/register');
  await waitForHydration(page, testInfo);
  await page.fill('#register-email', email);
  await page.fill('#register-name', name);
  await page.fill('#register-password', 'a long and unusual passphrase');
  await page.getByTestId('register-submit').click();
  await expect(page).toHaveURL(/\/account$/);
}

/** The first in-stock product on a category page. */
export async function firstInStockSku(page: Page, category = 'coffee'): Promise<string> {
  await page.goto(`/category/${category}`);
  const card = page.locator('article.product-card', { has: page.locator('.availability:not(.out)') }).first();
  const sku = await card.getAttribute('data-sku');
  expect(sku).toBeTruthy();
  return sku!;
}

export const adminEmail = process.env.E2E_ADMIN_EMAIL ?? 'admin@e2e.test';
/** Set by `./x test` (the owner it creates); tests that need the owner skip without it. */
export const adminPassword = process.env.E2E_ADMIN_PASSWORD ?? '';

/**
 * Logs in as the shop owner and waits until the admin page `next` (h1 `heading`) has loaded.
 * With JavaScript the shop bundle hands an admin page over with a full page load.
 */
export async function loginAsAdmin(page: Page, testInfo: TestInfo, next: string, heading: string) {
  await page.goto(`/login?next=${next}`);
  await waitForHydration(page, testInfo);
  await page.fill('#login-email', adminEmail);
  await page.fill('#login-password', adminPassword);
  await page.getByTestId('login-submit').click();
  await expect(page).toHaveURL((url) => url.pathname === next);
  await expect(page.getByRole('heading', { level: 1 })).toHaveText(heading);
  await page.waitForLoadState('load');
  await waitForHydration(page, testInfo);
}
