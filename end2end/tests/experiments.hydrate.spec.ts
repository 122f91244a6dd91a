import { BrowserContext, expect, Page, test } from '@playwright/test';
import { waitForHydration } from './helpers';

// Any console error or warning (hydration mismatch, CSP violation) fails these tests too.
test.beforeEach(async ({ page }) => {
  const problems: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error' || message.type() === 'warning') problems.push(`${message.type()}: ${message.text()}`);
  });
  page.on('pageerror', (error) => problems.push(`pageerror: ${error.message}`));
  (page as any).__problems = problems;
});

test.afterEach(async ({ page }) => {
  expect((page as any).__problems).toEqual([]);
});

async function cookie(context: BrowserContext, name: string): Promise<string | undefined> {
  return (await context.cookies()).find((c) => c.name === name)?.value;
}

async function stored(page: Page, key: string): Promise<any> {
  return page.evaluate((k) => JSON.parse(localStorage.getItem(k) ?? 'null'), key);
}

async function heroVariant(page: Page): Promise<string> {
  const variant = await page.getByTestId('hero').getAttribute('data-variant');
  expect(variant).toMatch(/^(control|variant_a|variant_b)$/);
  return variant!;
}

test('the hero variant is stable across reloads, cookie loss and localStorage loss', async ({ page, context }, testInfo) => {
  await page.goto('/');
  await waitForHydration(page, testInfo);
  const variant = await heroVariant(page);
  const visitor = await cookie(context, 'mercato_vid');
  expect(visitor).toBeTruthy();
  expect(JSON.parse(await cookie(context, 'mercato_ab') ?? '{}').hero).toBe(variant);
  // The hydrated app mirrors the assignment and the visitor id into localStorage.
  await expect.poll(() => stored(page, 'mercato_ab')).toEqual({ hero: variant });
  await expect.poll(() => stored(page, 'mercato_vid')).toBe(visitor);

  for (let i = 0; i < 5; i++) {
    await page.reload();
    await waitForHydration(page, testInfo);
    expect(await heroVariant(page)).toBe(variant);
  }

  // Cookies cleared (three times, so a new id hashing to the same variant cannot pass by
  // luck): localStorage brings back the visitor id, the assignment and the variant.
  for (let i = 0; i < 3; i++) {
    await context.clearCookies();
    await page.reload();
    await waitForHydration(page, testInfo);
    expect(await heroVariant(page)).toBe(variant);
    expect(await cookie(context, 'mercato_vid')).toBe(visitor);
    expect(JSON.parse(await cookie(context, 'mercato_ab') ?? '{}').hero).toBe(variant);
  }

  // localStorage cleared: the cookie keeps the variant, and the app writes it back.
  await page.evaluate(() => localStorage.clear());
  await page.reload();
  await waitForHydration(page, testInfo);
  expect(await heroVariant(page)).toBe(variant);
  await expect.poll(() => stored(page, 'mercato_ab')).toEqual({ hero: variant });
  await expect.poll(() => stored(page, 'mercato_vid')).toBe(visitor);
});

test('the home page renders the variant in place: cumulative layout shift is 0', async ({ page }, testInfo) => {
  await page.goto('/');
  await waitForHydration(page, testInfo);
  await heroVariant(page);
  const shift = await page.evaluate(
    () =>
      new Promise<number>((resolve) => {
        let total = 0;
        new PerformanceObserver((list) => {
          for (const entry of list.getEntries() as any[]) {
            if (!entry.hadRecentInput) total += entry.value;
          }
        }).observe({ type: 'layout-shift', buffered: true });
        setTimeout(() => resolve(total), 1_000);
      }),
  );
  expect(shift).toBe(0);
});

test('a hero click reaches the event log through the batched beacon', async ({ page }, testInfo) => {
  // Record what the app hands to sendBeacon (the request body of a beacon is not exposed).
  await page.addInitScript(() => {
    const sent: Blob[] = ((window as any).__beacons = []);
    const original = navigator.sendBeacon.bind(navigator);
    navigator.sendBeacon = (url: string | URL, data?: BodyInit | null) => {
      if (data instanceof Blob) sent.push(data);
      return original(url, data);
    };
  });
  await page.goto('/');
  await waitForHydration(page, testInfo);
  const accepted = page.waitForResponse((r) => r.url().endsWith('/api/v1/events') && r.request().method() === 'POST');
  await page.getByTestId('hero-cta').click();
  expect((await accepted).status()).toBe(202);
  const batches: any[] = await page.evaluate(async () =>
    Promise.all(((window as any).__beacons as Blob[]).map(async (blob) => JSON.parse(await blob.text()))),
  );
  const events = batches.flatMap((batch) => batch.events);
  expect(events.map((event) => event.kind)).toEqual(expect.arrayContaining(['page_view', 'click']));
  const click = events.find((event) => event.kind === 'click');
  expect(click.target).toBe('hero-cta');
  expect(click.experiment).toBe('hero');
  expect(click.variant).toBe(await page.evaluate(() => JSON.parse(localStorage.getItem('mercato_ab') ?? '{}').hero));
});
