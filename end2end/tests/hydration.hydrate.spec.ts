import { expect, Page, test } from '@playwright/test';
import { adminPassword, loginAsAdmin, register, uniqueEmail, waitForHydration } from './helpers';

// Any console error or warning (hydration mismatch, CSP violation, panic) fails the test.
test.beforeEach(async ({ page }) => {
  const problems: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error' || message.type() === 'warning') {
      problems.push(`${message.type()}: ${message.text()}`);
    }
  });
  page.on('pageerror', (error) => problems.push(`pageerror: ${error.message}`));
  // Name the resource behind a "Failed to load resource" message.
  page.on('response', (response) => {
    if (response.status() >= 400) problems.push(`${response.status()} ${response.request().method()} ${response.url()}`);
  });
  (page as any).__problems = problems;
});

test.afterEach(async ({ page }, testInfo) => {
  let problems: string[] = (page as any).__problems;
  // The not-found page is meant to answer 404; Chromium reports that status on the console.
  if (testInfo.title.startsWith('/no-such-page')) {
    problems = problems.filter((p) => !p.includes('status of 404') && !p.startsWith('404 GET'));
  }
  expect(problems).toEqual([]);
});

const pages = ['/', '/category/coffee', '/products/COF-001', '/cart', '/login', '/register', '/search?q=tea', '/no-such-page'];

for (const path of pages) {
  test(`${path} hydrates without a warning`, async ({ page }, testInfo) => {
    await page.goto(path);
    await waitForHydration(page, testInfo);
    // Give late effects a moment to report.
    await page.waitForTimeout(300);
  });
}

/** The wasm/js bundles a page links to. */
async function bundlesOf(page: Page): Promise<string> {
  const scripts = await page.locator('link[rel="modulepreload"], script[type="module"]').evaluateAll((els) =>
    els.map((el) => el.getAttribute('href') ?? el.textContent ?? ''),
  );
  return scripts.join(' ');
}

test('logged-in pages hydrate without a warning', async ({ page }, testInfo) => {
  await register(page, testInfo, uniqueEmail('hydrate'));
  await waitForHydration(page, testInfo);
  for (const path of ['/checkout', '/account', '/pricing', '/wishlist', '/support']) {
    await page.goto(path);
    await waitForHydration(page, testInfo);
    expect(await bundlesOf(page), `${path} loads the account bundle`).toContain('mercato_account');
  }
});

test('catalog pages load only the shop bundle, and a link into the account area loads its own', async ({ page }, testInfo) => {
  await page.goto('/');
  await waitForHydration(page, testInfo);
  const shop = await bundlesOf(page);
  expect(shop).toContain('/pkg/mercato.js');
  expect(shop).not.toContain('mercato_account');
  await page.locator('.site-nav a', { hasText: 'Plans' }).click();
  await expect(page).toHaveURL(/\/pricing$/);
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Plans');
  await waitForHydration(page, testInfo);
  expect(await bundlesOf(page)).toContain('mercato_account');
  // And back: the logo is a link into the shop's area.
  await page.locator('a.logo').click();
  await expect(page).toHaveURL(/\/$/);
  await expect(page.getByTestId('hero')).toBeVisible();
  await waitForHydration(page, testInfo);
  expect(await bundlesOf(page)).not.toContain('mercato_account');
});

test('after hydration, links navigate on the client without a reload', async ({ page }, testInfo) => {
  await page.goto('/');
  await waitForHydration(page, testInfo);
  await page.evaluate(() => ((window as any).__stillHere = true));
  await page.locator('.site-nav a', { hasText: 'Tea' }).click();
  await expect(page).toHaveURL(/\/category\/tea$/);
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Tea');
  await page.locator('article.product-card h3 a').first().click();
  await expect(page).toHaveURL(/\/products\//);
  await expect(page.getByTestId('price')).toBeVisible();
  expect(await page.evaluate(() => (window as any).__stillHere)).toBe(true);
});

test('adding to the cart after hydration updates the badge without a reload', async ({ page }, testInfo) => {
  await page.goto('/products/TEA-001');
  await waitForHydration(page, testInfo);
  await page.evaluate(() => ((window as any).__stillHere = true));
  await page.getByTestId('add-to-cart').click();
  await expect(page.getByTestId('cart-count')).toHaveText('1');
  expect(await page.evaluate(() => (window as any).__stillHere)).toBe(true);
});

/**
 * Collects every Content-Security-Policy violation the page's documents report, from their
 * first script on; the list outlives navigations and reloads.
 */
async function recordCspViolations(page: Page): Promise<string[]> {
  const violations: string[] = [];
  await page.exposeFunction('__reportCspViolation', (text: string) => violations.push(text));
  await page.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (event) => {
      (window as any).__reportCspViolation(
        `${event.effectiveDirective} blocked ${event.blockedURI || 'inline'} at ${event.sourceFile}:${event.lineNumber}`,
      );
    });
  });
  return violations;
}

test('pages hydrate and take an add to cart under the CSP without a single violation', async ({ page }, testInfo) => {
  const violations = await recordCspViolations(page);
  const cspConsole: string[] = [];
  page.on('console', (message) => {
    if (/Content Security Policy|Refused to (execute|load|apply|connect)/i.test(message.text())) cspConsole.push(message.text());
  });
  const response = await page.goto('/products/TEA-002');
  const csp = response?.headers()['content-security-policy'] ?? '';
  expect(csp).toMatch(/script-src 'self' 'nonce-[^']+' 'wasm-unsafe-eval'/);
  expect(csp).not.toContain('unsafe-inline');
  await waitForHydration(page, testInfo);
  await page.getByTestId('add-to-cart').click();
  await expect(page.getByTestId('cart-count')).toHaveText('1');
  // Across a client-side navigation and into the account bundle's area.
  await page.locator('.site-nav a', { hasText: 'Plans' }).click();
  await expect(page).toHaveURL(/\/pricing$/);
  await waitForHydration(page, testInfo);
  await page.goto('/cart');
  await waitForHydration(page, testInfo);
  await page.waitForTimeout(300);
  expect(violations).toEqual([]);
  expect(cspConsole).toEqual([]);

  // The policy is enforced and the listener hears it: a script without the nonce is refused.
  await page.evaluate(() => {
    const script = document.createElement('script');
    script.textContent = 'window.__injected = true';
    document.body.appendChild(script);
  });
  await expect.poll(() => violations.length).toBe(1);
  expect(violations[0]).toContain('script-src');
  expect(await page.evaluate(() => (window as any).__injected)).toBeUndefined();
  // That refusal was the point; the console check after the test is for unexpected ones.
  const problems: string[] = (page as any).__problems;
  problems.splice(0, problems.length, ...problems.filter((p) => !/Content Security Policy/i.test(p)));
});

test('admin pages hydrate with their own bundle, and links between the shop and admin load the other one', async ({ page }, testInfo) => {
  test.skip(!adminPassword, 'E2E_ADMIN_PASSWORD is set by ./x test');
  await loginAsAdmin(page, testInfo, '/admin', 'Shop admin');
  for (const path of ['/admin', '/admin/pricing', '/admin/experiments', '/admin/plans']) {
    const response = await page.goto(path);
    await waitForHydration(page, testInfo);
    expect(await bundlesOf(page), `${path} loads the admin bundle`).toContain('mercato_admin');
    expect(response?.status()).toBe(200);
  }
  // Admin → shop: the shop bundle takes over, and the page is the shop's.
  await page.locator('.site-nav a', { hasText: 'Tea' }).click();
  await expect(page).toHaveURL(/\/category\/tea$/);
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Tea');
  await waitForHydration(page, testInfo);
  // Shop → admin through the header link.
  await page.getByRole('link', { name: 'Admin', exact: true }).click();
  await expect(page).toHaveURL((url) => url.pathname === '/admin');
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Shop admin');
});
