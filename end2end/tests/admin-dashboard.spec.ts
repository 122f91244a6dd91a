import { expect, test } from '@playwright/test';
import { adminPassword, isJs, loginAsAdmin, register, uniqueEmail, waitForHydration } from './helpers';

test('the owner reads KPIs and charts for a range, with the tables behind them and a CSV', async ({ page }, testInfo) => {
  test.skip(!adminPassword, 'needs the owner created by ./x test');
  await loginAsAdmin(page, testInfo, '/admin', 'Shop admin');
  const dashboard = page.getByTestId('dashboard');
  await expect(dashboard).toBeVisible();
  // The seeded history: orders, sessions and revenue in the last 30 days.
  await expect(page.getByTestId('kpi-orders').locator('.kpi-value')).not.toHaveText('0');
  await expect(page.getByTestId('kpi-revenue').locator('.kpi-value')).toContainText('€');
  await expect(page.getByTestId('kpi-conversion').locator('.kpi-value')).toContainText('%');
  for (const chart of ['revenue-chart', 'conversion-chart', 'rpv-chart', 'sessions-chart', 'engagement-chart', 'pricing-chart', 'points-flow-chart',
    'reviews-flow-chart', 'products-chart', 'plans-chart', 'recs-chart']) {
    const svg = page.getByTestId(chart);
    await expect(svg).toBeVisible();
    // Accessible: a title and a description that spells out the numbers.
    await expect(svg.locator('title')).not.toBeEmpty();
    await expect(svg.locator('desc')).not.toBeEmpty();
  }
  await expect(page.getByTestId('range')).toContainText('30 days');
  if (isJs(testInfo)) {
    // For the record (the note points at it): the dashboard as the owner sees it.
    await page.screenshot({ path: '../target/screenshots/admin-dashboard.png', fullPage: true });
  }

  await page.getByTestId('range-7').click();
  await expect(page).toHaveURL(/days=7/);
  await expect(page.getByTestId('range')).toContainText('7 days');
  await expect(page.getByTestId('range-7')).toHaveAttribute('aria-current', 'page');

  const table = page.getByTestId('table-daily');
  await table.locator('summary').click();
  await expect(table.locator('tbody tr')).toHaveCount(7);

  const csv = await page.request.get((await page.getByTestId('csv-products').getAttribute('href'))!);
  expect(csv.status()).toBe(200);
  expect(csv.headers()['content-type']).toContain('text/csv');
  expect((await csv.text()).split('\n')[0]).toBe('sku,name,units,revenue');
});

test('a range typed wrong is explained above the default range', async ({ page }, testInfo) => {
  test.skip(!adminPassword, 'needs the owner created by ./x test');
  await loginAsAdmin(page, testInfo, '/admin', 'Shop admin');
  await page.goto('/admin?from=2026-11-20&to=2026-11-01');
  await expect(page.getByTestId('range-error')).toContainText('must not be after');
  await expect(page.getByTestId('range')).toContainText('30 days');
});

test('a shopper gets no dashboard', async ({ page }, testInfo) => {
  await register(page, testInfo, uniqueEmail('nodash'));
  await page.goto('/admin');
  if (isJs(testInfo)) await waitForHydration(page, testInfo);
  await expect(page.getByTestId('dashboard')).toHaveCount(0);
  await expect(page.getByText(/not allowed|forbidden|403/i).first()).toBeVisible();
});
