import { expect, Page, test, TestInfo } from '@playwright/test';
import { adminPassword, firstInStockSku, loginAsAdmin, register, uniqueEmail, waitForHydration } from './helpers';

type Plan = 'free' | 'basic' | 'premium';

/** Registers a shopper and, unless free, subscribes through the pricing page. */
async function shopperOn(page: Page, testInfo: TestInfo, plan: Plan) {
  await register(page, testInfo, uniqueEmail(`plan-${plan}`));
  await page.goto('/pricing');
  await waitForHydration(page, testInfo);
  await expect(page.locator('.plan-card[data-plan="free"]').getByTestId('plan-badge')).toBeVisible();
  if (plan !== 'free') {
    await page.getByTestId(`choose-${plan}`).click();
    await expect(page).toHaveURL(/\/pricing\?changed=subscribe/);
    await expect(page.locator(`.plan-card[data-plan="${plan}"]`).getByTestId('plan-badge')).toBeVisible();
  }
}

const locked = (page: Page, feature: string) => page.locator(`[data-testid="locked-feature"][data-feature="${feature}"]`);

/** Checks one feature's UI: usable, or locked with an upgrade link. */
async function expectFeature(page: Page, testInfo: TestInfo, feature: string, open: boolean, sku: string) {
  switch (feature) {
    case 'basic_search':
      await page.goto('/search?q=tea');
      await expect(page.locator('.search-results article.product-card').first()).toBeVisible();
      break;
    case 'view_products':
      await page.goto(`/products/${sku}`);
      await expect(page.getByTestId('add-to-cart')).toBeVisible();
      break;
    case 'advanced_filters':
      await page.goto('/category/coffee');
      await (open ? expect(page.getByTestId('filters')) : expect(locked(page, feature))).toBeVisible();
      break;
    case 'wishlist':
      await page.goto(`/products/${sku}`);
      await (open ? expect(page.getByTestId('wishlist-toggle')) : expect(locked(page, feature))).toBeVisible();
      break;
    case 'personalized_recommendations':
      await page.goto('/');
      await expect(page.getByTestId('recommendations')).toHaveAttribute('data-kind', open ? 'for_you' : 'popular');
      if (!open) await expect(locked(page, feature)).toBeVisible();
      break;
    case 'priority_support':
      await page.goto('/support');
      await (open ? expect(page.getByTestId('priority-support')) : expect(locked(page, feature))).toBeVisible();
      break;
    case 'community_posting':
      await page.goto('/community/tea');
      await (open ? expect(page.getByTestId('topic-form')) : expect(locked(page, feature))).toBeVisible();
      break;
  }
  await waitForHydration(page, testInfo);
  if (open) {
    await expect(locked(page, feature)).toHaveCount(0);
  } else {
    await expect(locked(page, feature).getByRole('link', { name: /Upgrade to/ })).toHaveAttribute('href', '/pricing');
  }
}

const matrix: Record<Plan, Record<string, boolean>> = {
  free: {
    basic_search: true,
    view_products: true,
    advanced_filters: false,
    wishlist: false,
    personalized_recommendations: false,
    priority_support: false,
    community_posting: false,
  },
  basic: {
    basic_search: true,
    view_products: true,
    advanced_filters: true,
    wishlist: true,
    personalized_recommendations: false,
    priority_support: false,
    community_posting: false,
  },
  premium: {
    basic_search: true,
    view_products: true,
    advanced_filters: true,
    wishlist: true,
    personalized_recommendations: true,
    priority_support: true,
    community_posting: true,
  },
};

for (const plan of ['free', 'basic', 'premium'] as Plan[]) {
  test(`the ${plan} plan shows its features and locks the others`, async ({ page }, testInfo) => {
    const sku = await firstInStockSku(page, 'tea');
    await shopperOn(page, testInfo, plan);
    for (const [feature, open] of Object.entries(matrix[plan])) {
      await test.step(`${feature}: ${open ? 'open' : 'locked'}`, () => expectFeature(page, testInfo, feature, open, sku));
    }
  });
}

test('a basic shopper saves a product to the wishlist and removes it', async ({ page }, testInfo) => {
  const sku = await firstInStockSku(page, 'mugs');
  await shopperOn(page, testInfo, 'basic');
  await page.goto(`/products/${sku}`);
  await waitForHydration(page, testInfo);
  await page.getByTestId('wishlist-toggle').click();
  await expect(page.getByTestId('wishlist-toggle')).toHaveAttribute('aria-pressed', 'true');
  await page.goto('/wishlist');
  await waitForHydration(page, testInfo);
  const item = page.locator(`[data-testid="wishlist-item"][data-sku="${sku}"]`);
  await expect(item).toBeVisible();
  await item.getByRole('button', { name: 'Remove' }).click();
  await expect(page.getByTestId('wishlist-item')).toHaveCount(0);
});

test('filters sort a category by price and refuse a bad amount next to the field', async ({ page }, testInfo) => {
  await shopperOn(page, testInfo, 'basic');
  await page.goto('/category/coffee');
  await waitForHydration(page, testInfo);
  await page.selectOption('#filter-sort', 'price_desc');
  await page.getByTestId('apply-filters').click();
  await expect(page).toHaveURL(/sort=price_desc/);
  const prices = await page.locator('.category [data-testid="price"]').evaluateAll((nodes) =>
    nodes.map((node) => Number(node.getAttribute('data-amount-cents'))),
  );
  expect(prices.length).toBeGreaterThan(2);
  expect([...prices].sort((a, b) => b - a)).toEqual(prices);

  await page.fill('#filter-min-price', 'cheap');
  await page.getByTestId('apply-filters').click();
  await expect(page.locator('.filters .field-error')).toContainText('Enter an amount');
});

test('an upgrade is immediate and a downgrade waits for the period end', async ({ page }, testInfo) => {
  await shopperOn(page, testInfo, 'basic');
  await page.getByTestId('choose-premium').click();
  await expect(page).toHaveURL(/changed=upgrade/);
  await expect(page.locator('.plan-card[data-plan="premium"]').getByTestId('plan-badge')).toBeVisible();
  await page.goto('/account');
  await waitForHydration(page, testInfo);
  await expect(page.getByTestId('plan-badge')).toHaveText('Premium');
  // Subscribe and upgrade: two invoices, the second with a credit line.
  await expect(page.getByTestId('invoice')).toHaveCount(2);
  await expect(page.getByTestId('invoice').first()).toContainText('Unused time on Basic');

  await page.goto('/pricing');
  await waitForHydration(page, testInfo);
  await page.getByTestId('choose-basic').click();
  await expect(page).toHaveURL(/changed=downgrade/);
  await expect(page.locator('.plan-card[data-plan="premium"]').getByTestId('plan-badge')).toBeVisible();
  await expect(page.getByText(/Scheduled: Basic from/)).toBeVisible();
  await page.goto('/support');
  await expect(page.getByTestId('priority-support')).toBeVisible();
});

test('a support request needs a subject and is listed once sent', async ({ page }, testInfo) => {
  await shopperOn(page, testInfo, 'premium');
  await page.goto('/support');
  await waitForHydration(page, testInfo);
  await page.fill('#support-subject', 'Hi');
  await page.fill('#support-body', 'My parcel has not arrived yet, can you check?');
  await page.getByTestId('support-submit').click();
  await expect(page.locator('.support-form .field-error')).toContainText('subject');
  await page.fill('#support-subject', 'Parcel missing');
  await page.fill('#support-body', 'My parcel has not arrived yet, can you check?');
  await page.getByTestId('support-submit').click();
  await expect(page).toHaveURL(/sent=1/);
  await expect(page.getByTestId('support-request').first()).toContainText('Parcel missing');
  await expect(page.getByTestId('support-request').first()).toHaveAttribute('data-priority', 'true');
});

test('the owner sees subscribers and MRR and records a payment', async ({ page, browser }, testInfo) => {
  test.skip(!adminPassword, 'needs the owner created by ./x test');
  await shopperOn(page, testInfo, 'premium');
  const owner = await browser.newPage();
  await loginAsAdmin(owner, testInfo, '/admin/plans', 'Plans and subscriptions');
  await expect(owner.getByTestId('mrr-chart')).toBeVisible();
  const mrr = await owner.getByTestId('mrr').textContent();
  expect(mrr).toMatch(/€\d+\.\d\d/);
  // Other tests add invoices meanwhile: follow one invoice by its number.
  const first = owner.getByTestId('invoice').first();
  const id = await first.getAttribute('data-invoice');
  expect(id).toBeTruthy();
  await first.getByRole('button', { name: 'Mark paid' }).click();
  await expect(owner.locator(`[data-testid="invoice"][data-invoice="${id}"]`)).toHaveCount(0);
  await owner.close();
});
