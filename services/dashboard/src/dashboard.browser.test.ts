import { existsSync } from 'node:fs';
import { copyFile, mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setKillSwitch } from '@otp/db';
import { registerUser } from '@otp/gateway/testing';
import { REPO_ROOT } from '@otp/testkit';
import { type BrowserContext, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEST_AUTH, useDeliveryScenario } from './testing/index.ts';

// The dashboard in a real browser: Debian's Chromium driven by playwright-core. `.ci/run`
// installs Chromium (apt-get install -y chromium); without it this test fails rather than skips,
// so a CI machine that lost it is noticed.
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const ARTIFACTS = join(REPO_ROOT, 'test-artifacts');
const SCREENSHOT = join(ARTIFACTS, 'dashboard.png');
const FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

let baseUrl: string;
let userDataDir: string;
let context: BrowserContext | undefined;

// Before the scenario: a missing Chromium fails the file at once, not after the scenario played.
beforeAll(() => {
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `Chromium not found at ${CHROMIUM}: .ci/run installs it (apt-get install -y chromium); ` +
        'on a development machine run that line, or point CHROMIUM_PATH at a Chromium binary',
    );
  }
});

const scenario = useDeliveryScenario();

beforeAll(async () => {
  baseUrl = await scenario.dashboard.listen({ host: '127.0.0.1', port: 0 });
  userDataDir = await mkdtemp(join(tmpdir(), 'otp-dashboard-chromium-'));
});

afterAll(async () => {
  await context?.close();
  if (userDataDir !== undefined) await rm(userDataDir, { recursive: true, force: true });
});

async function openBrowser(credentials?: { username: string; password: string }): Promise<BrowserContext> {
  await context?.close();
  context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM,
    headless: true,
    args: FLAGS,
    viewport: { width: 1280, height: 800 },
    ...(credentials === undefined ? {} : { httpCredentials: { ...credentials, origin: baseUrl } }),
  });
  return context;
}

describe('queue dashboard in Chromium', () => {
  it('is closed to a browser that does not sign in', async () => {
    const browser = await openBrowser();
    const page = browser.pages()[0] ?? (await browser.newPage());
    const statuses: number[] = [];
    page.on('response', (response) => statuses.push(response.status()));
    // Headless Chromium cannot ask for a password: the 401 challenge ends the navigation.
    await expect(page.goto(`${baseUrl}/`)).rejects.toThrow(/ERR_INVALID_AUTH_CREDENTIALS/);
    // Chromium then shows its own error page (it may still be loading it): poll what is shown.
    const shown = () => page.content().catch(() => 'still navigating');
    await expect.poll(shown, { timeout: 10_000 }).not.toBe('still navigating');
    expect(await shown()).not.toContain('OTP delivery queues');
    expect(statuses).not.toContain(200);
  });

  it('signs in with basic credentials, shows both queues and their jobs, and saves a screenshot', async () => {
    const browser = await openBrowser({ username: TEST_AUTH.basic.user, password: TEST_AUTH.basic.password });
    const page = browser.pages()[0] ?? (await browser.newPage());
    const response = await page.goto(`${baseUrl}/`);
    expect(response?.status()).toBe(200);
    await expect.poll(() => page.title(), { timeout: 30_000 }).toBe('OTP delivery queues');
    // The overview links to each queue once its data arrived from /api/queues.
    await page.locator('a[href$="queue/email"]').first().waitFor({ timeout: 30_000 });
    await page.locator('a[href$="queue/sms"]').first().waitFor({ timeout: 30_000 });

    // The email queue's failed job, with its error code.
    await page.goto(`${baseUrl}/queue/email?status=failed`);
    await page.getByText('smtp_550').first().waitFor({ timeout: 30_000 });

    await mkdir(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: join(ARTIFACTS, 'dashboard-email-failed.png') });

    // The overview: one card per queue with its counts by state.
    await page.goto(`${baseUrl}/`);
    await page
      .getByText(/^\d+ Jobs$/)
      .nth(1)
      .waitFor({ timeout: 30_000 });
    await page.screenshot({ path: SCREENSHOT });
    expect(existsSync(SCREENSHOT)).toBe(true);
    if (process.env.UPDATE_DOCS_SCREENSHOT === '1') {
      await copyFile(SCREENSHOT, join(REPO_ROOT, 'docs/images/queue-dashboard.png'));
    }

    const text = await page.content();
    for (const secret of scenario.secrets()) expect(text.toLowerCase()).not.toContain(secret.toLowerCase());
  });

  it("opens the kill switches page from the board's menu, showing what is off and who switched it", async () => {
    await setKillSwitch(scenario.gateway.deps.db, 'country:GB', true, 'ops-browser-test');
    const browser = await openBrowser({ username: TEST_AUTH.basic.user, password: TEST_AUTH.basic.password });
    const page = browser.pages()[0] ?? (await browser.newPage());
    await page.goto(`${baseUrl}/`);
    await expect.poll(() => page.title(), { timeout: 30_000 }).toBe('OTP delivery queues');
    // The header's last menu holds the board's links to the dashboard's other pages.
    await page.locator('header button[aria-haspopup="menu"]').last().click();
    await page.getByRole('menuitem', { name: 'Kill switches' }).click();
    await page.waitForURL(`${baseUrl}/kill-switches`, { timeout: 30_000 });

    const row = page.getByRole('row', { name: /country:GB/ });
    await row.waitFor({ timeout: 30_000 });
    expect(await row.getByRole('cell').allInnerTexts()).toEqual([
      'country:GB',
      'off',
      expect.stringMatching(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC$/),
      'ops-browser-test',
    ]);
    await mkdir(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: join(ARTIFACTS, 'dashboard-kill-switches.png') });
  });

  it('finds an account on the Lookup page, shows it, and disables it, audited under the operator', async () => {
    const user = await registerUser(scenario.gateway, 'browser-lookup');
    const browser = await openBrowser({ username: TEST_AUTH.basic.user, password: TEST_AUTH.basic.password });
    const page = browser.pages()[0] ?? (await browser.newPage());
    await page.goto(`${baseUrl}/`);
    await expect.poll(() => page.title(), { timeout: 30_000 }).toBe('OTP delivery queues');
    await page.locator('header button[aria-haspopup="menu"]').last().click();
    await page.getByRole('menuitem', { name: 'Lookup' }).click();
    await page.waitForURL(`${baseUrl}/lookup`, { timeout: 30_000 });

    await page.getByLabel('Email or phone (+E.164)').first().fill(user.email);
    await page.getByRole('button', { name: 'Find account' }).click();
    const row = page.getByRole('row', { name: new RegExp(user.email.split('@')[0] ?? '', 'i') });
    await row.getByRole('button', { name: 'Open' }).click();
    await expect.poll(() => page.locator('#user-state').textContent(), { timeout: 30_000 }).toBe('enabled');
    expect(await page.locator('#user-detail').textContent()).toContain(user.userId);

    // Disabling asks first; the browser's confirm dialog is accepted.
    page.once('dialog', (dialog) => void dialog.accept());
    await page.getByRole('button', { name: 'Disable' }).click();
    await expect
      .poll(() => page.locator('#user-state').textContent(), { timeout: 30_000 })
      .toMatch(/^disabled since \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC$/);
    await page.getByText('Disable: done.').waitFor({ timeout: 30_000 });
    await page.getByRole('button', { name: 'Enable' }).waitFor({ timeout: 30_000 });
    await mkdir(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: join(ARTIFACTS, 'dashboard-lookup.png'), fullPage: true });

    const event = await scenario.gateway.deps.db
      .selectFrom('security_events')
      .select('details')
      .where('type', '=', 'admin.user_disabled')
      .where('user_id', '=', user.userId)
      .executeTakeFirstOrThrow();
    expect(event.details).toMatchObject({ operator: 'dashboard', actor: TEST_AUTH.basic.user });
    const text = await page.content();
    for (const secret of scenario.secrets()) expect(text.toLowerCase()).not.toContain(secret.toLowerCase());
  });
});
