import { expect, request, test } from '@playwright/test';
import { register, uniqueEmail, waitForHydration } from './helpers';

const token = process.env.INVENTORY_TOKEN ?? 'e2e-inventory-token';

test('a price that moved before the order is explained, and the shopper confirms the new total', async ({
  page,
  baseURL,
}, testInfo) => {
  const api = await request.newContext({ baseURL });
  const setStock = async (stock: number) => {
    const response = await api.put('/api/v1/inventory/GFT-002', {
      headers: { Authorization: `Bearer ${token}` },
      data: { stock },
    });
    expect(response.status()).toBe(200);
  };
  await setStock(60);
  await register(page, testInfo, uniqueEmail('lock'));
  await page.goto('/products/GFT-002');
  await waitForHydration(page, testInfo);
  await page.getByTestId('add-to-cart').click();
  await expect(page.getByTestId('cart-count')).toHaveText('1');

  await page.goto('/checkout');
  await waitForHydration(page, testInfo);
  const seen = await page.getByTestId('cart-total').getAttribute('data-amount-cents');
  // The price rises while the shopper looks at the checkout page.
  await setStock(3);
  await expect
    .poll(async () => {
      const product = await (await api.get('/api/v1/products/GFT-002')).json();
      return product.price.amount_cents;
    })
    .toBeGreaterThan(Number(seen));
  await page.getByTestId('place-order').click();
  await expect(page.getByTestId('checkout-error')).toContainText('Prices changed');
  const now = await page.getByTestId('cart-total').getAttribute('data-amount-cents');
  expect(Number(now)).toBeGreaterThan(Number(seen));
  await page.getByTestId('place-order').click();
  await expect(page).toHaveURL(/\/orders\/\d+$/);
  await api.dispose();
});
