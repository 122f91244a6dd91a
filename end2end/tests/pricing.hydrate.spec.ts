import { expect, request, test } from '@playwright/test';
import { waitForHydration } from './helpers';

const token = process.env.INVENTORY_TOKEN ?? 'e2e-inventory-token';

async function setStock(baseURL: string, sku: string, stock: number) {
  const api = await request.newContext({ baseURL });
  const response = await api.put(`/api/v1/inventory/${sku}`, {
    headers: { Authorization: `Bearer ${token}` },
    data: { stock },
  });
  expect(response.status()).toBe(200);
  await api.dispose();
}

test('an open product page shows the new price within 2 s of a stock change', async ({ page, baseURL }, testInfo) => {
  await setStock(baseURL!, 'BRW-001', 60);
  await page.goto('/products/BRW-001');
  await waitForHydration(page, testInfo);
  const price = page.getByTestId('price');
  const before = Number(await price.getAttribute('data-amount-cents'));
  await setStock(baseURL!, 'BRW-001', 3);
  await expect
    .poll(async () => Number(await price.getAttribute('data-amount-cents')), { timeout: 2_000, intervals: [50] })
    .toBeGreaterThan(before);
});

test('a category page follows price changes too', async ({ page, baseURL }, testInfo) => {
  await setStock(baseURL!, 'SNK-001', 60);
  await page.goto('/category/snacks');
  await waitForHydration(page, testInfo);
  const price = page.locator('[data-testid="price"][data-sku="SNK-001"]');
  const before = Number(await price.getAttribute('data-amount-cents'));
  await setStock(baseURL!, 'SNK-001', 150);
  await expect
    .poll(async () => Number(await price.getAttribute('data-amount-cents')), { timeout: 2_000, intervals: [50] })
    .toBeLessThan(before);
  await expect(page.locator('[data-sku="SNK-001"] [data-testid="lowest-30d"]')).toBeVisible();
});
