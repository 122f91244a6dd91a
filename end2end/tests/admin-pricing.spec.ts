import { expect, test } from '@playwright/test';
import { adminEmail as email, adminPassword as password, loginAsAdmin, waitForHydration } from './helpers';

test('the owner previews a rule change, saves it, and sees it in the audit log', async ({ page }, testInfo) => {
  test.skip(!password, 'E2E_ADMIN_PASSWORD is set by ./x test');
  await loginAsAdmin(page, testInfo, '/admin/pricing', 'Dynamic pricing');

  // Scope: one product per project, so the JS and no-JS runs (and other specs) never meet.
  const sku = testInfo.project.name === 'js' ? 'MUG-002' : 'MUG-004';
  await page.goto(`/admin/pricing?scope=product:${sku}`);
  await waitForHydration(page, testInfo);
  const lowRow = page.locator('[data-testid="price-preview"] tr[data-stock="2"]');
  const before = Number(await lowRow.getAttribute('data-amount-cents'));

  await page.fill('#rule-low_stock_markup_pct', '25');
  await page.getByTestId('preview-rules').click();
  await expect(page).toHaveURL(/low_stock_markup_pct=25/);
  await expect
    .poll(async () => Number(await page.locator('[data-testid="price-preview"] tr[data-stock="2"]').getAttribute('data-amount-cents')))
    .toBeGreaterThan(before);

  await page.getByTestId('save-rules').click();
  await expect(page).toHaveURL(/saved=1/);
  await expect(page.getByTestId('pricing-audit')).toContainText(email);
  await expect(page.getByTestId('pricing-audit')).toContainText(`product:${sku}`);
  await expect(page.getByTestId('pricing-audit')).toContainText('own rules created');
  await expect(page.getByTestId('price-history-chart')).toBeVisible();

  // A bad value is explained next to its field and the typed values are kept.
  await page.fill('#rule-ceiling_pct', 'lots');
  await page.getByTestId('preview-rules').click();
  await expect(page.locator('.field-error')).toContainText('percentage');
  await expect(page.locator('#rule-ceiling_pct')).toHaveValue('lots');
});

test('a shopper cannot open the pricing admin', async ({ page }) => {
  const response = await page.goto('/admin/pricing');
  // Logged out: sent to log in.
  await expect(page).toHaveURL(/\/login/);
  expect(response?.ok()).toBeTruthy();
});
