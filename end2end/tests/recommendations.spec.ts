import { expect, test } from '@playwright/test';
import { waitForHydration } from './helpers';

/** A product that seeded orders often pair with others (it has a "bought together" block). */
async function pairedSku(request: import('@playwright/test').APIRequestContext): Promise<string> {
  for (const category of ['coffee', 'tea', 'brewing', 'mugs', 'snacks', 'gifts']) {
    const products = await (await request.get(`/api/v1/products?category=${category}`)).json();
    for (const product of products.items) {
      const recs = await (
        await request.get(`/api/v1/recommendations?kind=frequently_bought_together&sku=${product.sku}&limit=3`)
      ).json();
      if (recs.items.length >= 2) return product.sku;
    }
  }
  throw new Error('no product has frequently-bought-together partners');
}

test('a product page offers what is bought with it, and adds it all to the cart in one go', async ({ page }, testInfo) => {
  const sku = await pairedSku(page.request);
  await page.goto(`/products/${sku}`);
  await waitForHydration(page, testInfo);
  const block = page.getByTestId('rec-frequently_bought_together');
  await expect(block.getByTestId('rec-item').first()).toBeVisible();
  const partners = await block.getByTestId('rec-item').evaluateAll((items) => items.map((i) => i.getAttribute('data-sku')));
  expect(partners).not.toContain(sku);
  await block.getByTestId('add-all-to-cart').click();
  await expect(page).toHaveURL(/\/cart$/);
  for (const partner of [sku, ...partners]) {
    await expect(page.locator(`[data-testid="cart-line"][data-sku="${partner}"]`)).toHaveCount(1);
  }
  // The cart suggests more, never what is already in it.
  const suggestions = await page
    .getByTestId('rec-cross_sell')
    .getByTestId('rec-item')
    .evaluateAll((items) => items.map((i) => i.getAttribute('data-sku')));
  for (const inCart of [sku, ...partners]) expect(suggestions).not.toContain(inCart);
});

test('following a recommendation opens the product it shows', async ({ page }, testInfo) => {
  const sku = await pairedSku(page.request);
  await page.goto(`/products/${sku}`);
  await waitForHydration(page, testInfo);
  const first = page.getByTestId('rec-frequently_bought_together').getByTestId('rec-item').first();
  const target = await first.getAttribute('data-sku');
  await first.getByRole('link').click();
  await expect(page).toHaveURL(new RegExp(`/products/${target}$`));
  await expect(page.getByRole('heading', { level: 1 })).toBeVisible();
});
