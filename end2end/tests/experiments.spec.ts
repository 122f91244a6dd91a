import { expect, test } from '@playwright/test';
import { adminPassword as password, loginAsAdmin, waitForHydration } from './helpers';

test('the hero variant and the new-visitor banner are in the server-rendered page', async ({ page }, testInfo) => {
  await page.goto('/');
  await waitForHydration(page, testInfo);
  const variant = await page.getByTestId('hero').getAttribute('data-variant');
  expect(variant).toMatch(/^(control|variant_a|variant_b)$/);
  await expect(page.getByTestId('banner')).toHaveAttribute('data-segment', 'new');
  for (let i = 0; i < 3; i++) {
    await page.reload();
    await expect(page.getByTestId('hero')).toHaveAttribute('data-variant', variant!);
  }
});

test('the owner reads experiment results with charts and edits the new-visitor banner', async ({ page, browser }, testInfo) => {
  test.skip(!password, 'E2E_ADMIN_PASSWORD is set by ./x test');
  await loginAsAdmin(page, testInfo, '/admin/experiments', 'Experiments and personalization');

  const hero = page.locator('[data-testid="experiment"][data-key="hero"]');
  await expect(hero.getByTestId('experiment-status')).toHaveText('running');
  await expect(hero.getByTestId('rate-chart')).toBeVisible();
  await expect(hero.getByTestId('exposure-chart')).toBeVisible();
  await expect(hero.locator('table tbody tr')).toHaveCount(3);

  // A link outside the shop is refused and explained; nothing is saved.
  const form = page.locator('#banner-new');
  await form.locator('input[name="cta_href"]').fill('javascript:alert(1)');
  await form.getByRole('button', { name: 'Save banner' }).click();
  await expect(page.locator('#banner-new .form-error')).toContainText('path on this shop');

  const headline = `Welcome, first-timer (${testInfo.project.name})`;
  const again = page.locator('#banner-new');
  await again.locator('input[name="headline"]').fill(headline);
  await again.locator('input[name="cta_href"]').fill('/category/coffee');
  await again.getByRole('button', { name: 'Save banner' }).click();
  await expect(page).toHaveURL(/banner_saved=new/);

  // A new visitor sees it (the anonymous page cache lives one second).
  const visitor = await browser.newPage();
  await expect
    .poll(async () => {
      await visitor.goto('/');
      return visitor.getByTestId('banner').textContent();
    })
    .toContain('Welcome, first-timer');
  await visitor.close();
});
