import { Browser, expect, Page, test, TestInfo } from '@playwright/test';
import { adminPassword, firstInStockSku, isJs, loginAsAdmin, register, uniqueEmail, waitForHydration } from './helpers';

/** The owner, logged in on the moderation page, in a page of its own. */
async function ownerPage(browser: Browser, testInfo: TestInfo): Promise<Page> {
  const owner = await browser.newPage();
  await loginAsAdmin(owner, testInfo, '/admin/reviews', 'Reviews and Q&A');
  return owner;
}

/** Fails the test if the page ever opens a dialog (what injected `alert()`s would do). */
function forbidDialogs(page: Page) {
  page.on('dialog', async (dialog) => {
    await dialog.dismiss();
    throw new Error(`a dialog opened: ${dialog.message()}`);
  });
}

const marker = () => `m${Date.now()}${Math.floor(Math.random() * 1e6)}`;

test('a review waits for moderation, then shows as text with its incentive label, and its markup never runs', async ({ page, browser }, testInfo) => {
  test.skip(!adminPassword, 'needs the owner created by ./x test');
  forbidDialogs(page);
  const tag = marker();
  const title = `${tag} <script>window.__xss = 1; alert(1)</script>`;
  const body = `Lovely. <img src=x onerror="window.__xss = 2; alert(2)"> ${tag}`;
  await register(page, testInfo, uniqueEmail('review'));
  const sku = await firstInStockSku(page, 'mugs');
  await page.goto(`/products/${sku}`);
  await waitForHydration(page, testInfo);
  await page.getByTestId('write-review').click();
  await expect(page).toHaveURL(new RegExp(`/account/reviews/${sku}$`));
  await waitForHydration(page, testInfo);
  await expect(page.getByTestId('incentive-notice')).toContainText('labelled as incentivized');
  await page.locator('label[for="rating-4"]').click();
  await page.fill('#review-title', title);
  await page.fill('#review-body', body);
  await page.getByTestId('review-submit').click();
  await expect(page).toHaveURL(/\/account\/reviews\?saved=/);
  await expect(page.getByTestId('review-saved')).toBeVisible();
  await expect(page.getByTestId('my-review').filter({ hasText: tag }).getByTestId('review-status')).toHaveText(
    'Waiting for moderation',
  );

  // Not on the product page until approved.
  await page.goto(`/products/${sku}`);
  await expect(page.getByTestId('rating-average')).toBeVisible();
  await expect(page.getByTestId('review').filter({ hasText: tag })).toHaveCount(0);

  const owner = await ownerPage(browser, testInfo);
  forbidDialogs(owner);
  const item = owner.getByTestId('queue-item').filter({ hasText: tag });
  await expect(item).toHaveCount(1);
  await item.getByTestId('approve').click();
  await expect(owner.getByTestId('admin-message')).toHaveText('Approved 1 item.');
  expect(await owner.evaluate(() => (window as any).__xss)).toBeUndefined();
  await owner.close();

  await page.goto(`/products/${sku}`);
  await waitForHydration(page, testInfo);
  const review = page.getByTestId('review').filter({ hasText: tag });
  await expect(review).toHaveCount(1);
  // The payloads are shown as the text the shopper typed.
  await expect(review).toContainText('<script>window.__xss = 1; alert(1)</script>');
  await expect(review).toContainText('<img src=x onerror=');
  await expect(review.locator('img, script')).toHaveCount(0);
  await expect(review.getByTestId('sponsored-label')).toHaveText(/Incentivized review: the author received \d+ points/);
  if (isJs(testInfo)) {
    expect(await page.evaluate(() => (window as any).__xss)).toBeUndefined();
  }
  // Search engines get the rating from approved reviews only.
  const jsonLd = await page.locator('script[type="application/ld+json"]').first().textContent();
  const product = JSON.parse(jsonLd!);
  expect(product['@type']).toBe('Product');
  expect(product.aggregateRating.reviewCount).toBeGreaterThan(0);
});

test('a review with no rating comes back with the message next to the field and the text kept', async ({ page }, testInfo) => {
  await register(page, testInfo, uniqueEmail('norating'));
  const sku = await firstInStockSku(page, 'tea');
  await page.goto(`/account/reviews/${sku}`);
  await waitForHydration(page, testInfo);
  await page.fill('#review-title', 'Forgot the stars');
  await page.fill('#review-body', 'Everything I wrote is still here.');
  await page.getByTestId('review-submit').click();
  await expect(page.getByTestId('error-rating')).toHaveText('Choose 1 to 5 stars.');
  await expect(page.locator('#review-title')).toHaveValue('Forgot the stars');
  await expect(page.locator('#review-body')).toHaveValue('Everything I wrote is still here.');
  await page.goto('/account/reviews');
  await expect(page.getByTestId('my-review')).toHaveCount(0);
});

test('a shopper marks a review helpful once', async ({ page, browser }, testInfo) => {
  test.skip(!adminPassword, 'needs the owner created by ./x test');
  const tag = marker();
  const sku = await firstInStockSku(page, 'brewing');
  // Another shopper's review, approved by the owner (through the API, as an integration would).
  const author = await browser.newPage();
  await register(author, testInfo, uniqueEmail('author'));
  const created = await author.request.post(`/api/v1/products/${sku}/reviews`, {
    data: { rating: 5, title: `Helpful ${tag}`, body: 'Brews a great cup.' },
  });
  expect(created.status()).toBeLessThan(300);
  const id = (await created.json()).id;
  await author.close();
  const owner = await ownerPage(browser, testInfo);
  const approved = await owner.request.post('/api/v1/admin/moderation', {
    data: { items: [{ kind: 'review', id }], decision: 'approve' },
  });
  expect(approved.status()).toBe(200);
  await owner.close();

  await register(page, testInfo, uniqueEmail('voter'));
  await page.goto(`/products/${sku}?sort=newest`);
  await waitForHydration(page, testInfo);
  const review = page.locator(`#review-${id}`);
  await expect(review.getByTestId('helpful-count')).toHaveText('0 found this helpful');
  await review.getByTestId('vote-review').click();
  await expect(page).toHaveURL(/voted=1/);
  await expect(page.locator(`#review-${id}`).getByTestId('helpful-count')).toHaveText('1 found this helpful');
  await page.locator(`#review-${id}`).getByTestId('vote-review').click();
  await expect(page.locator(`#review-${id}`).getByTestId('helpful-count')).toHaveText('1 found this helpful');
});

test('a question is moderated, answered by the shop and shown on the product page', async ({ page, browser }, testInfo) => {
  test.skip(!adminPassword, 'needs the owner created by ./x test');
  const tag = marker();
  await register(page, testInfo, uniqueEmail('asker'));
  const sku = await firstInStockSku(page, 'coffee');
  await page.goto(`/products/${sku}`);
  await waitForHydration(page, testInfo);
  await page.getByTestId('ask-question').click();
  await expect(page).toHaveURL(new RegExp(`/account/questions/${sku}$`));
  await waitForHydration(page, testInfo);
  await page.fill('#ask-body', `Is it fair trade? ${tag}`);
  await page.getByTestId('ask-submit').click();
  await expect(page.getByTestId('qa-posted')).toContainText('once a moderator');

  const owner = await ownerPage(browser, testInfo);
  const item = owner.getByTestId('queue-item').filter({ hasText: tag });
  await item.getByTestId('approve').click();
  await expect(owner.getByTestId('admin-message')).toHaveText('Approved 1 item.');
  await owner.goto(`/account/questions/${sku}`);
  await waitForHydration(owner, testInfo);
  const question = owner.getByTestId('question').filter({ hasText: tag });
  await expect(question).toHaveCount(1);
  const qid = (await question.getAttribute('id'))!.replace('question-', '');
  await owner.fill(`#answer-${qid}`, `Yes, certified. ${tag}`);
  await owner.locator('form', { has: owner.locator(`#answer-${qid}`) }).getByTestId('answer-submit').click();
  await expect(owner.getByTestId('qa-posted')).toContainText('published');
  await owner.close();

  await page.goto(`/products/${sku}#questions`);
  await waitForHydration(page, testInfo);
  const shown = page.getByTestId('question').filter({ hasText: `Is it fair trade? ${tag}` });
  await expect(shown.getByTestId('answer')).toContainText(`Yes, certified. ${tag}`);
  await expect(shown.getByTestId('answer')).toContainText('Shop staff');
});
