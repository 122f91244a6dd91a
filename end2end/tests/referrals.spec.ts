import { expect, Page, test, TestInfo } from '@playwright/test';
import { adminPassword, firstInStockSku, loginAsAdmin, register, uniqueEmail, waitForHydration } from './helpers';

async function funnel(owner: Page, testInfo: TestInfo): Promise<[number, number, number]> {
  await owner.goto('/admin/loyalty');
  await waitForHydration(owner, testInfo);
  const read = async (id: string) => Number(await owner.getByTestId(id).textContent());
  return [await read('funnel-clicks'), await read('funnel-registrations'), await read('funnel-first-orders')];
}

async function balance(page: Page, testInfo: TestInfo): Promise<number> {
  await page.goto('/account');
  await waitForHydration(page, testInfo);
  return Number(await page.getByTestId('points-balance').getAttribute('data-points'));
}

test('a friend who registers through the referral link and orders earns both sides points, counted in the funnel', async ({ page, browser }, testInfo) => {
  test.skip(!adminPassword, 'needs the owner created by ./x test');
  const owner = await browser.newPage();
  await loginAsAdmin(owner, testInfo, '/admin/loyalty', 'Loyalty');
  const [clicks, registrations, firstOrders] = await funnel(owner, testInfo);
  await expect(owner.getByTestId('referral-chart')).toBeVisible();

  await register(page, testInfo, uniqueEmail('referrer'), 'Referrer');
  const link = await page.getByTestId('referral-link').inputValue();
  expect(link).toMatch(/^\/r\/[a-z2-7]{16}$/);
  await expect(page.getByTestId('referral-counts')).toContainText('0 clicks');

  // The friend's own browser: the link lands on the home page and registration remembers it.
  const friend = await browser.newPage();
  await friend.goto(link);
  await expect(friend).toHaveURL((url) => url.pathname === '/');
  const cookie = (await friend.context().cookies()).find((c) => c.name === 'mercato_ref');
  expect(cookie?.httpOnly).toBe(true);
  expect(cookie?.sameSite).toBe('Lax');
  await register(friend, testInfo, uniqueEmail('friend'), 'Friend');
  const sku = await firstInStockSku(friend, 'brewing');
  await friend.goto(`/products/${sku}`);
  await waitForHydration(friend, testInfo);
  await friend.getByTestId('add-to-cart').click();
  await expect(friend.getByTestId('cart-count')).toHaveText('1');
  await friend.goto('/checkout');
  await waitForHydration(friend, testInfo);
  await friend.getByTestId('place-order').click();
  await expect(friend).toHaveURL(/\/orders\/\d+$/);
  const orderId = await friend.getByTestId('order-confirmation').getAttribute('data-order-id');

  // The funnel is shop-wide and other specs run alongside: it grew by at least this friend.
  const [clicksNow, registrationsNow] = await funnel(owner, testInfo);
  expect(clicksNow).toBeGreaterThanOrEqual(clicks + 1);
  expect(registrationsNow).toBeGreaterThanOrEqual(registrations + 1);
  const row = owner.locator(`[data-testid="admin-order"][data-order="${orderId}"]`);
  await row.getByTestId('order-fulfil').click();
  await expect(owner.locator(`[data-testid="admin-order"][data-order="${orderId}"]`)).toHaveAttribute('data-status', 'fulfilled');

  // The reward is paid by the outbox a moment after the fulfilment.
  await expect.poll(() => balance(page, testInfo), { timeout: 10_000 }).toBe(500);
  await expect(page.getByTestId('referral-counts')).toContainText('1 clicks');
  await expect(page.getByTestId('referral-counts')).toContainText('1 made a first order');
  await expect.poll(async () => (await funnel(owner, testInfo))[2], { timeout: 10_000 }).toBeGreaterThanOrEqual(firstOrders + 1);
  await friend.close();
  await owner.close();
});
