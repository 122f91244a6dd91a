import { expect, request, test, type Page, type TestInfo } from '@playwright/test';
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

// A stock change reprices through the outbox, a moment after the PUT: the tests start from a
// price settled at base, read from the API.
async function setStockAndSettleAtBase(baseURL: string, sku: string, stock: number): Promise<number> {
  await setStock(baseURL, sku, stock);
  const api = await request.newContext({ baseURL });
  let amount = 0;
  await expect
    .poll(
      async () => {
        const product = await (await api.get(`/api/v1/products/${sku}`)).json();
        amount = product.price.amount_cents;
        return product.price.reason;
      },
      { timeout: 5_000 },
    )
    .toBe('base');
  await api.dispose();
  return amount;
}

// Opens `path` once its server-rendered price for `sku` is `amount`: an anonymous page may
// come from the page cache, up to a second older than the price.
async function openShowing(page: Page, testInfo: TestInfo, path: string, sku: string, amount: number) {
  const price = page.locator(`[data-testid="price"][data-sku="${sku}"]`);
  await expect
    .poll(
      async () => {
        await page.goto(path);
        return Number(await price.getAttribute('data-amount-cents'));
      },
      { timeout: 5_000 },
    )
    .toBe(amount);
  await waitForHydration(page, testInfo);
  return price;
}

test('an open product page shows the new price within 2 s of a stock change', async ({ page, baseURL }, testInfo) => {
  const before = await setStockAndSettleAtBase(baseURL!, 'BRW-001', 60);
  const price = await openShowing(page, testInfo, '/products/BRW-001', 'BRW-001', before);
  await setStock(baseURL!, 'BRW-001', 3);
  await expect
    .poll(async () => Number(await price.getAttribute('data-amount-cents')), { timeout: 2_000, intervals: [50] })
    .toBeGreaterThan(before);
});

test('a category page follows price changes too', async ({ page, baseURL }, testInfo) => {
  const before = await setStockAndSettleAtBase(baseURL!, 'SNK-001', 60);
  const price = await openShowing(page, testInfo, '/category/snacks', 'SNK-001', before);
  await setStock(baseURL!, 'SNK-001', 150);
  await expect
    .poll(async () => Number(await price.getAttribute('data-amount-cents')), { timeout: 2_000, intervals: [50] })
    .toBeLessThan(before);
  await expect(page.locator('[data-sku="SNK-001"] [data-testid="lowest-30d"]')).toBeVisible();
});
