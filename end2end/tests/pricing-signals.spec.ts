import { expect, test } from '@playwright/test';
import { adminPassword as password, loginAsAdmin, register, uniqueEmail, waitForHydration } from './helpers';

test('the owner imports competitor prices as CSV, fixes a bad line, and simulates a rule before saving', async ({ page }, testInfo) => {
  test.skip(!password, 'E2E_ADMIN_PASSWORD is set by ./x test');
  await loginAsAdmin(page, testInfo, '/admin/pricing', 'Dynamic pricing');
  // With JavaScript the form posts through the hydrated action: its errors must show too.
  await waitForHydration(page, testInfo);
  // One product per project, so the JS and no-JS runs never meet.
  const sku = testInfo.project.name === 'js' ? 'SNK-001' : 'SNK-002';
  const observed = new Date(Date.now() - 60_000).toISOString();

  await page.fill('#competitor-csv-text', `sku,source,price_cents,observed_at\n${sku},rival-shop,-5,${observed}\n`);
  await page.getByTestId('import-csv').click();
  const problem = page.getByTestId('csv-problem');
  await expect(problem).toHaveAttribute('data-line', '2');
  await expect(problem).toHaveAttribute('data-field', 'price_cents');

  await page.fill('#competitor-csv-text', `sku,source,price_cents,observed_at\n${sku},rival-shop,100,${observed}\n`);
  await page.getByTestId('import-csv').click();
  await expect(page.getByTestId('csv-imported')).toContainText('Imported 1 offers');

  // Match the rival for this product: the simulation shows both paths and saves nothing.
  await page.goto(`/admin/pricing?scope=product:${sku}`);
  await waitForHydration(page, testInfo);
  await expect(page.getByTestId('competitor-offers')).toContainText('rival-shop');
  await page.fill('#rule-competitor', 'match');
  await page.fill('#rule-max_step_pct', '0');
  await page.getByTestId('simulate-rules').click();
  await expect(page).toHaveURL(/simulate=1/);
  await expect(page.getByTestId('simulation')).toContainText('held as observed');
  await expect(page.getByTestId('simulation-chart')).toBeVisible();
  await expect(page.getByTestId('revenue-difference')).toHaveAttribute('data-cents', /^-?\d+$/);
  await expect(page.getByTestId('pricing-audit')).not.toContainText(`product:${sku}`);
});

test('the order page offers a complementary product that joins the order in one click', async ({ page }, testInfo) => {
  await register(page, testInfo, uniqueEmail('addon'));
  // A product seeded orders pair with others, so it has cross-sells.
  let bought = '';
  for (const candidate of ['COF-001', 'COF-002', 'TEA-001', 'TEA-002', 'BRW-001', 'MUG-001']) {
    const recs = await (await page.request.get(`/api/v1/recommendations?kind=cross_sell&sku=${candidate}&limit=1`)).json();
    if (recs.items.length > 0) {
      bought = candidate;
      break;
    }
  }
  expect(bought).not.toBe('');
  await page.goto(`/products/${bought}`);
  await waitForHydration(page, testInfo);
  await page.getByTestId('add-to-cart').click();
  await expect(page.getByTestId('cart-count')).toHaveText('1');
  await page.goto('/checkout');
  await waitForHydration(page, testInfo);
  await page.getByTestId('place-order').click();
  await expect(page).toHaveURL(/\/orders\/\d+$/);
  await waitForHydration(page, testInfo);

  const offer = page.getByTestId('post-purchase').getByTestId('rec-item').first();
  await expect(offer).toBeVisible();
  await expect(page.getByTestId('addon-window')).toBeVisible();
  const extra = await offer.getAttribute('data-sku');
  const before = await page.getByTestId('order-total').textContent();
  await offer.getByTestId('post-purchase-add').click();
  await expect(page).toHaveURL(new RegExp(`added=${extra}`));
  await expect(page.getByTestId('addon-added')).toContainText(extra!);
  await expect(page.getByTestId('order-total')).not.toHaveText(before!);
});
