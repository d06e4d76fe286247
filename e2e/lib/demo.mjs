// The fixture of the browser tests on the demo: one Socle in demo mode and
// one Chromium for the whole test file, people of the demo logged in from a
// French browser of their own, and the way a person opens a production's
// collaborative editor (the productions list, the production, "Éditer à
// plusieurs…", then the first sync).
import { before, after } from 'node:test';
import { start } from './socle.mjs';
import { launch, login } from './browser.mjs';

/** The password of every person of the demo. */
export const PASSWORD = 'socle-demo';

/** Starts Socle and Chromium before the file's tests and stops them after. */
export function demoSession() {
  let socle;
  let browser;

  before(async () => {
    socle = await start({ timeoutMs: 180_000 });
    browser = await launch();
  });

  after(async () => {
    await browser?.close();
    await socle?.stop();
  });

  return {
    get url() { return socle.url; },
    get socle() { return socle; },
    get browser() { return browser; },

    /** Logs email in from a new French browser context; errors collects the page's script errors. */
    async person(email, { baseURL = socle.url } = {}) {
      const context = await browser.newContext({ locale: 'fr-FR', viewport: { width: 1280, height: 900 } });
      const page = await context.newPage();
      const errors = [];
      page.on('pageerror', (e) => errors.push(String(e.stack || e)));
      await login(page, baseURL, email, PASSWORD);
      return { context, page, errors };
    },

    /** Opens the production titled title in its editor of kind (pad, wiki…) and waits for the first sync. */
    async openEditor(page, title, kind, { baseURL = socle.url, timeout = 10_000 } = {}) {
      await page.goto(baseURL + '/productions');
      await Promise.all([page.waitForURL(/\/productions\/\d+$/), page.getByRole('link', { name: title }).first().click()]);
      await Promise.all([page.waitForURL(/\/productions\/\d+\/editer$/), page.getByRole('link', { name: /Éditer à plusieurs/ }).click()]);
      await page.locator(`[data-production-editor="${kind}"][data-synced="true"]`).waitFor({ timeout });
    },
  };
}
