// Browser tests of the catalogue management forms, the new-ticket form and
// the helpdesk's administration pages, in Debian's Chromium, each page
// checked with axe-core (WCAG 2.1 A and AA), on the demo territory.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { assertAccessible } from './lib/browser.mjs';
import { demoSession } from './lib/demo.mjs';

const demo = demoSession();

async function pageAs(email) {
  return (await demo.person(email)).page;
}

test('catalogue forms: accessible, faults next to their fields, a service created', async () => {
  const page = await pageAs('agent.metropole@demo.socle.fr');
  for (const path of ['/catalogue/services/nouveau', '/equipes', '/calendriers/nouveau', '/conventions/nouvelle']) {
    await page.goto(demo.url + path);
    await assertAccessible(assert, page, path);
  }
  await page.goto(demo.url + '/catalogue/services/nouveau');
  await page.getByLabel('Famille de services').fill('Essais');
  await page.getByLabel('Code').fill('E2E-SVC');
  await page.getByLabel('Nom', { exact: true }).fill(' ');
  await page.getByLabel('Nom du type de demande 1').fill('Panne');
  await page.getByRole('button', { name: 'Créer le service' }).click();
  await page.waitForSelector('#name-err');
  assert.equal(await page.getByLabel('Nom', { exact: true }).getAttribute('aria-invalid'), 'true');
  await assertAccessible(assert, page, 'service form with a fault');
  await page.getByLabel('Nom', { exact: true }).fill('Service des essais');
  await Promise.all([page.waitForURL(/\/catalogue\/services\/\d+$/), page.getByRole('button', { name: 'Créer le service' }).click()]);
  assert.match(await page.locator('h1').innerText(), /Service des essais/);
  await page.getByRole('link', { name: 'Modifier le service et ses types de demandes' }).click();
  await page.waitForURL(/modifier$/);
  await assertAccessible(assert, page, 'service edit form');
  // Editing a calendar and a team of the demo.
  await page.goto(demo.url + '/calendriers');
  await page.locator('table a[href^="/calendriers/"]').first().click();
  await page.waitForURL(/\/calendriers\/\d+$/);
  await page.getByRole('link', { name: 'Modifier le calendrier' }).click();
  await page.waitForURL(/modifier$/);
  await assertAccessible(assert, page, 'calendar edit form');
  await page.goto(demo.url + '/equipes');
  await page.locator('a[href$="/modifier"]').first().click();
  await page.waitForURL(/\/equipes\/\d+\/modifier$/);
  await assertAccessible(assert, page, 'team edit form');
  await page.context().close();
});

test('new ticket: the services of the school, accessible', async () => {
  const page = await pageAs('direction.ecole@demo.socle.fr');
  await page.goto(demo.url + '/tickets/nouveau');
  await assertAccessible(assert, page, 'new ticket form');
  const offered = await page.locator('#service_request').count();
  const none = await page.locator('#offer-none').count();
  assert.equal(offered + none, 1, 'either the offer or "sans délai garanti"');
  await page.context().close();
});

test('administration: quarantine and outgoing notifications, accessible', async () => {
  const page = await pageAs('admin@demo.socle.fr');
  for (const path of ['/courriels-en-quarantaine', '/notifications-sortantes']) {
    await page.goto(demo.url + path);
    await assertAccessible(assert, page, path);
  }
  await page.context().close();
});
