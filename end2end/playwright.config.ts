import { defineConfig } from '@playwright/test';

// Debian's Chromium: Playwright cannot download its own browser on these machines.
const chromiumArgs = [
  '--headless=new',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export default defineConfig({
  testDir: './tests',
  timeout: 30_000,
  expect: { timeout: 10_000 },
  fullyParallel: true,
  workers: process.env.CI ? 2 : 3,
  retries: 0,
  reporter: [['list']],
  use: {
    baseURL: process.env.BASE_URL ?? 'http://127.0.0.1:3000',
    launchOptions: {
      executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
      args: chromiumArgs,
    },
    trace: 'off',
  },
  // Every spec runs twice: hydrated, and with JavaScript off (the server-rendered HTML and
  // plain form posts must carry the shopper flows alone). `*.hydrate.spec.ts` are JS-only.
  projects: [
    { name: 'js', use: { browserName: 'chromium', javaScriptEnabled: true } },
    {
      name: 'no-js',
      use: { browserName: 'chromium', javaScriptEnabled: false },
      testIgnore: /\.hydrate\.spec\.ts$/,
    },
  ],
});
