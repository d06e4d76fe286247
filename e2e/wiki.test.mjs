// The real-time wiki in Debian's Chromium: a pupil of the demo école and a
// pupil of the demo collège open the demo wiki at the same time; one
// creates a page and writes in it, the other finds it in the list, links
// the home page to it and follows the link; the address of a page opens
// it; a page is deleted for both; the server's read-only view shows what
// they wrote.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { assertAccessible } from './lib/browser.mjs';
import { demoSession } from './lib/demo.mjs';

const WIKI = 'Wiki du cycle 3 : les volcans';
const SEEN_MS = 10_000;

const demo = demoSession();

/** Opens the demo wiki's editor from the productions list and waits for the first sync. */
async function openWiki(page) {
  await demo.openEditor(page, WIKI, 'wiki', { timeout: SEEN_MS });
  return wiki(page);
}

/** The parts of the wiki editor a person uses. */
function wiki(page) {
  const nav = page.getByRole('navigation', { name: 'Pages du wiki' });
  return {
    nav,
    pageLink: (title) => nav.getByRole('link', { name: title, exact: true }),
    text: page.getByRole('textbox', { name: 'Texte de la page', exact: true }),
    heading: page.locator('#wiki-page-title'),
  };
}

/** Waits until the current page is the one titled title. */
async function onPage(w, title) {
  try {
    await w.pageLink(title).and(w.nav.locator('[aria-current="page"]')).waitFor({ timeout: SEEN_MS });
    await w.heading.getByText(title, { exact: true }).waitFor({ timeout: SEEN_MS });
  } catch (e) {
    const page = w.nav.page();
    throw new Error(`not on « ${title} » (${page.url()}): list ${await w.nav.textContent()}; heading ${await w.heading.textContent()}; ` +
      `status ${await page.locator('.wiki-notice').textContent()}`, { cause: e });
  }
}

test('an école pupil and a collège pupil write the same wiki, link its pages and follow the links', async () => {
  const ecole = await demo.person('eleve@demo.socle.fr');
  const college = await demo.person('eleve.college@demo.socle.fr');
  try {
    const [a, b] = await Promise.all([openWiki(ecole.page), openWiki(college.page)]);
    assert.equal(ecole.page.url(), college.page.url(), 'both pupils open the same production');

    // The demo pages, written by the server, in the server's order; the first one is shown.
    for (const w of [a, b]) {
      assert.deepEqual(await w.nav.getByRole('link').allTextContents(), ['Accueil', 'Les volcans d\'Auvergne']);
      await onPage(w, 'Accueil');
      await w.text.getByText('Bienvenue sur le wiki des volcans.').waitFor({ timeout: SEEN_MS });
    }
    // Each sees the other on the home page.
    await a.nav.getByRole('listitem').filter({ hasText: 'Accueil' }).getByText('Nathan').waitFor({ timeout: SEEN_MS });
    await b.nav.getByRole('listitem').filter({ hasText: 'Accueil' }).getByText('Léa').waitFor({ timeout: SEEN_MS });

    // The école pupil creates a page and writes in it.
    const PITON = 'Le Piton de la Fournaise';
    const pitonText = 'Le Piton de la Fournaise est un volcan de La Réunion ' + Date.now();
    await ecole.page.getByLabel('Titre de la nouvelle page').fill(PITON);
    await ecole.page.getByRole('button', { name: 'Créer la page' }).click();
    await onPage(a, PITON);
    await a.text.click();
    await ecole.page.keyboard.type(pitonText, { delay: 10 });
    const pitonHash = new URL(ecole.page.url()).hash;
    assert.match(pitonHash, /^#page-p3-[a-z0-9]{4}$/, 'the new page has a collision-free id sorting after p1 and p2');

    // The collège pupil sees it in the list, after the demo pages, and opens it.
    await b.pageLink(PITON).waitFor({ timeout: SEEN_MS });
    assert.deepEqual(await b.nav.getByRole('link').allTextContents(), ['Accueil', 'Les volcans d\'Auvergne', PITON]);
    await b.pageLink(PITON).click();
    await onPage(b, PITON);
    await b.text.getByText(pitonText).waitFor({ timeout: SEEN_MS });
    assert.equal(new URL(college.page.url()).hash, pitonHash, 'the address names the page');
    // The école pupil sees the collège pupil arrive on the page.
    await a.nav.getByRole('listitem').filter({ hasText: PITON }).getByText('Nathan').waitFor({ timeout: SEEN_MS });

    // The collège pupil links the home page to the new page.
    await b.pageLink('Accueil').click();
    await onPage(b, 'Accueil');
    await b.text.getByText('Bienvenue sur le wiki des volcans.').click();
    await college.page.keyboard.press('Control+End');
    await college.page.keyboard.press('Enter');
    await college.page.keyboard.type('Voir aussi le Piton', { delay: 10 });
    await college.page.keyboard.press('Shift+Home');
    await college.page.getByRole('button', { name: 'Lien vers une page' }).click();
    const dialog = college.page.getByRole('dialog', { name: 'Lien vers une page du wiki' });
    await dialog.getByLabel('Page liée').selectOption({ label: PITON });
    await dialog.getByRole('button', { name: 'Lier', exact: true }).click();
    const link = b.text.getByRole('link', { name: 'Voir aussi le Piton' });
    await link.waitFor({ timeout: SEEN_MS });

    // The école pupil sees the link on the home page too.
    await a.pageLink('Accueil').click();
    await onPage(a, 'Accueil');
    await a.text.getByRole('link', { name: 'Voir aussi le Piton' }).waitFor({ timeout: SEEN_MS });

    // Following the link opens the page, with the mouse and with the keyboard.
    await link.click();
    await onPage(b, PITON);
    await b.text.getByText(pitonText).waitFor({ timeout: SEEN_MS });
    assert.equal(new URL(college.page.url()).hash, pitonHash);
    await college.page.goBack();
    await onPage(b, 'Accueil');
    await a.text.getByRole('link', { name: 'Voir aussi le Piton' }).click();
    await onPage(a, PITON);
    await ecole.page.goBack();
    await onPage(a, 'Accueil');
    await a.text.getByText('Voir aussi le Piton').click();
    await ecole.page.keyboard.press('Control+Enter');
    await onPage(a, PITON);

    // The address of a page opens that page.
    const shared = await ecole.context.newPage();
    shared.on('pageerror', (e) => ecole.errors.push(String(e)));
    const editorURL = college.page.url().replace(/#.*$/, '');
    await shared.goto(editorURL + pitonHash);
    await shared.locator('[data-production-editor="wiki"][data-synced="true"]').waitFor({ timeout: SEEN_MS });
    const s = wiki(shared);
    await onPage(s, PITON);
    await s.text.getByText(pitonText).waitFor({ timeout: SEEN_MS });
    // An address naming no page says so and keeps the page shown.
    await shared.goto(editorURL + '#page-p99');
    await shared.getByRole('status').getByText('n\'existe pas').waitFor({ timeout: SEEN_MS });
    await onPage(s, PITON);
    assert.equal(new URL(shared.url()).hash, pitonHash, 'the address names the page shown again');
    await shared.close();

    // A page deleted by one, after confirmation, leaves the other's list.
    await college.page.getByLabel('Titre de la nouvelle page').fill('Brouillon');
    await college.page.getByRole('button', { name: 'Créer la page' }).click();
    await onPage(b, 'Brouillon');
    await a.pageLink('Brouillon').waitFor({ timeout: SEEN_MS });
    await college.page.getByRole('button', { name: 'Supprimer la page' }).click();
    const confirm = college.page.getByRole('dialog', { name: 'Supprimer la page ?' });
    await confirm.getByText('« Brouillon »').waitFor();
    await confirm.getByRole('button', { name: 'Supprimer', exact: true }).click();
    await onPage(b, PITON);
    await a.pageLink('Brouillon').waitFor({ state: 'detached', timeout: SEEN_MS });
    assert.deepEqual(await a.nav.getByRole('link').allTextContents(), ['Accueil', 'Les volcans d\'Auvergne', PITON]);

    // The server stored it all: its read-only view shows the new page and its text.
    const id = /\/productions\/(\d+)\//.exec(ecole.page.url())[1];
    const deadline = Date.now() + SEEN_MS;
    let html = '';
    while (Date.now() < deadline) {
      html = await (await college.page.request.get(demo.url + '/productions/' + id)).text();
      if (html.includes(PITON) && html.includes(pitonText) && html.includes('Voir aussi le Piton') && !html.includes('Brouillon')) break;
      await new Promise((r) => setTimeout(r, 300));
    }
    assert.ok(html.includes('<h3>' + PITON + '</h3>'), 'the read-only view shows the new page');
    assert.ok(html.includes(pitonText), 'the read-only view shows its text');
    assert.ok(html.includes('Voir aussi le Piton'), 'the read-only view shows the text of the link');
    assert.ok(!html.includes('Brouillon'), 'the deleted page is gone');
    assert.ok(html.indexOf('Les volcans d&#39;Auvergne') < html.indexOf(PITON), 'the pages keep their order: ' + html.slice(0, 200));

    await assertAccessible(assert, college.page, 'éditeur du wiki');
    assert.deepEqual(ecole.errors, [], 'no script error on the école side');
    assert.deepEqual(college.errors, [], 'no script error on the collège side');
  } finally {
    await ecole.context.close();
    await college.context.close();
  }
});
