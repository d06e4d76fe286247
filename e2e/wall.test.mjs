// The collaborative wall in Debian's Chromium: a pupil of the demo école and
// a pupil of the demo collège open the demo wall (shared with CM1 A and
// with the collège's 6e A) at the same time. One adds a card with a link in
// the "Idées" column, the other sees it, edits it and sends it to
// "Ressources", the first sees that and reorders it with the keyboard; a
// demo card is dragged from one column to the other; then a card placed
// freely on the board is moved with the keyboard and with the mouse, and
// deleted. The server's read-only view shows the result, which
// proves the editor writes the server's layout.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { assertAccessible } from './lib/browser.mjs';
import { demoSession } from './lib/demo.mjs';

const WALL = 'Mur des idées pour la rentrée en 6e';
const SEEN_MS = 10_000;

const demo = demoSession();

/** Opens the demo wall's editor from the productions list and waits for the first sync and the demo cards. */
async function openWall(page) {
  await demo.openEditor(page, WALL, 'wall', { timeout: SEEN_MS });
  // The demo content came from the server's document, in its columns.
  await column(page, 'Idées').getByText('Visiter le collège avant la rentrée', { exact: true }).waitFor({ timeout: SEEN_MS });
  await column(page, 'Ressources').getByText('Le plan du collège', { exact: true }).waitFor({ timeout: SEEN_MS });
}

const column = (page, name) => page.getByRole('region', { name, exact: true });
const cardOf = (scope, text) => scope.getByRole('listitem').filter({ hasText: text });

/** The texts of a column's cards, in order. */
const columnTexts = (page, name) => column(page, name).locator('.wall-card-text').allTextContents();

/** Waits until check() holds, retrying; fails with what was last seen. */
async function eventually(what, check) {
  const deadline = Date.now() + SEEN_MS;
  let last;
  for (;;) {
    last = await check();
    if (last === true) return;
    if (Date.now() > deadline) assert.fail(`${what}: ${JSON.stringify(last)}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** Fills and sends the card form that is open. */
async function fillCard(page, { text, link, column: col }) {
  const dialog = page.getByRole('dialog');
  if (text !== undefined) await dialog.getByLabel('Texte').fill(text);
  if (link !== undefined) await dialog.getByLabel('Lien', { exact: true }).fill(link);
  if (col !== undefined) await dialog.getByLabel('Colonne').fill(col);
  await dialog.getByRole('button', { name: 'Enregistrer' }).click();
  await dialog.waitFor({ state: 'hidden', timeout: SEEN_MS });
}

test('an école pupil and a collège pupil build the same wall at once and see each other', async () => {
  const ecole = await demo.person('eleve@demo.socle.fr');
  const college = await demo.person('eleve.college@demo.socle.fr');
  try {
    await Promise.all([openWall(ecole.page), openWall(college.page)]);
    assert.equal(ecole.page.url(), college.page.url(), 'both pupils open the same production');
    await ecole.page.locator('[data-presence]').getByText('Nathan', { exact: false }).waitFor({ timeout: SEEN_MS });

    // The demo's link opens safely, in a new tab.
    const demoLink = cardOf(column(ecole.page, 'Ressources'), 'Le plan du collège').getByRole('link');
    assert.equal(await demoLink.getAttribute('href'), 'https://www.education.gouv.fr/');
    assert.equal(await demoLink.getAttribute('target'), '_blank');
    assert.equal(await demoLink.getAttribute('rel'), 'noopener noreferrer');

    // The école pupil adds a card with a link in "Idées"; the pupil types
    // the address as pupils do, without https://.
    const idea = 'Un atelier orientation ' + Date.now();
    await ecole.page.getByRole('button', { name: 'Ajouter une carte dans « Idées »' }).click();
    await fillCard(ecole.page, { text: idea, link: 'www.onisep.fr' });

    // The collège pupil sees it in "Idées", with its link.
    const seen = cardOf(column(college.page, 'Idées'), idea);
    await seen.waitFor({ timeout: SEEN_MS });
    const link = seen.getByRole('link');
    assert.equal(await link.getAttribute('href'), 'https://www.onisep.fr/');
    assert.equal(await link.getAttribute('rel'), 'noopener noreferrer');

    // Presence: the collège pupil selects the card; the école pupil sees
    // it outlined with the collège pupil's name.
    await seen.getByText(idea, { exact: true }).click();
    await cardOf(column(ecole.page, 'Idées'), idea).locator('.wall-person').getByText('Nathan', { exact: false }).waitFor({ timeout: SEEN_MS });

    // The collège pupil edits it, then sends it to the next column.
    const edited = idea + ' (avec la CPE)';
    await seen.getByRole('button', { name: /^Modifier la carte/ }).click();
    await fillCard(college.page, { text: edited });
    await college.page.getByRole('button', { name: 'Colonne suivante' }).click();
    await cardOf(column(college.page, 'Ressources'), edited).waitFor({ timeout: SEEN_MS });

    // The école pupil sees the edit in "Ressources", and no more in "Idées".
    await cardOf(column(ecole.page, 'Ressources'), edited).waitFor({ timeout: SEEN_MS });
    await eventually('the card left « Idées » on the école side', async () => {
      const texts = await columnTexts(ecole.page, 'Idées');
      return !texts.some((t) => t.startsWith(idea)) || texts;
    });
    // The live region told the école pupil about it, in words.
    await ecole.page.getByText(/déplacée dans la colonne « Ressources » par un autre participant/).waitFor({ state: 'attached', timeout: SEEN_MS });

    // The école pupil puts it first in "Ressources" with the keyboard
    // (focus, then the up arrow); both see the new order.
    await cardOf(column(ecole.page, 'Ressources'), edited).focus();
    await ecole.page.keyboard.press('ArrowUp');
    for (const [side, p] of [['école', ecole.page], ['collège', college.page]]) {
      await eventually(`${side}: the card is first in « Ressources »`, async () => {
        const texts = await columnTexts(p, 'Ressources');
        return (texts.length === 2 && texts[0] === edited && texts[1] === 'Le plan du collège') || texts;
      });
    }
    // The focus followed the card, so the next key press moves it again.
    assert.equal(await ecole.page.evaluate(() => document.activeElement?.textContent.includes('avec la CPE')), true, 'focus stays on the moved card');

    // The collège pupil drags a demo card from « Idées » onto the top half
    // of « Le plan du collège »: it lands just before it, for both.
    await cardOf(column(college.page, 'Idées'), 'Un parrain de 6e').dragTo(cardOf(column(college.page, 'Ressources'), 'Le plan du collège'),
      { targetPosition: { x: 30, y: 5 } });
    for (const [side, p] of [['école', ecole.page], ['collège', college.page]]) {
      await eventually(`${side}: the dragged card is in « Ressources »`, async () => {
        const texts = await columnTexts(p, 'Ressources');
        return (texts.join('|') === [edited, 'Un parrain de 6e pour chaque CM1', 'Le plan du collège'].join('|')) || texts;
      });
    }

    // A card placed freely: the école pupil adds one without a column; the
    // collège pupil moves it with the keyboard, then with the mouse.
    const free = 'Carte libre ' + Date.now();
    await ecole.page.getByRole('button', { name: 'Ajouter une carte', exact: true }).click();
    await fillCard(ecole.page, { text: free });
    const board = (p) => p.getByRole('region', { name: 'Cartes placées librement' });
    const position = (p) => cardOf(board(p), free).evaluate((li) => [li.offsetLeft, li.offsetTop]);
    await cardOf(board(college.page), free).waitFor({ timeout: SEEN_MS });
    const [x0, y0] = await position(college.page);
    await cardOf(board(college.page), free).focus();
    await college.page.keyboard.press('Shift+ArrowRight');
    await college.page.keyboard.press('ArrowDown');
    await eventually('the école side sees the keyboard move', async () => {
      const [x, y] = await position(ecole.page);
      return (x === x0 + 50 && y === y0 + 10) || [x, y];
    });
    const box = await cardOf(board(college.page), free).getByText(free, { exact: true }).boundingBox();
    await college.page.mouse.move(box.x + 5, box.y + 5);
    await college.page.mouse.down();
    await college.page.mouse.move(box.x + 60, box.y + 45, { steps: 5 });
    await college.page.mouse.move(box.x + 105, box.y + 85, { steps: 5 });
    await college.page.mouse.up();
    await eventually('the école side sees the mouse move', async () => {
      const [x, y] = await position(ecole.page);
      return (x === x0 + 150 && y === y0 + 90) || [x, y];
    });

    // The server stored it all in its layout: its read-only view shows the
    // edited card in its column, with its link, and the free card.
    const id = /\/productions\/(\d+)\//.exec(ecole.page.url())[1];
    let html = '';
    await eventually('the read-only view shows the wall', async () => {
      html = await (await college.page.request.get(demo.url + '/productions/' + id)).text();
      return (html.includes(edited) && html.includes(free)) || html.slice(html.indexOf('<h2>Contenu'), html.indexOf('<h2>Exporter'));
    });
    const edCard = html.slice(html.indexOf(edited));
    assert.match(edCard.slice(0, edCard.indexOf('</article>')), /href="https:\/\/www\.onisep\.fr\/?"[\s\S]*Colonne : Ressources/, 'the card keeps its link and its column');

    // The école pupil deletes the free card, after confirming; it goes for both.
    ecole.page.once('dialog', (d) => d.accept());
    await cardOf(board(ecole.page), free).getByRole('button', { name: /^Supprimer la carte/ }).click();
    await board(college.page).waitFor({ state: 'hidden', timeout: SEEN_MS });
    assert.equal(await college.page.getByText(free, { exact: true }).count(), 0, 'the deleted card is gone on the collège side');

    await assertAccessible(assert, ecole.page, 'éditeur du mur');
    await ecole.page.getByRole('button', { name: 'Nouvelle colonne' }).click();
    await assertAccessible(assert, ecole.page, 'formulaire de carte du mur');
    await ecole.page.keyboard.press('Escape');
    assert.deepEqual(ecole.errors, [], 'no script error on the école side');
    assert.deepEqual(college.errors, [], 'no script error on the collège side');
  } finally {
    await ecole.context.close();
    await college.context.close();
  }
});
