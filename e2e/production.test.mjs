// The collaborative pad in Debian's Chromium: a pupil of the demo école and
// a pupil of the demo collège open the demo's cross-school pad (shared with
// CM1 A and with the collège's 6e A) at the same time, each types, and each
// sees the other's text through /collab/{id}; then the CM1 teacher asks the
// cross-school liaison group for a production through /travaux and both
// pupils find the notification on /notifications.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { assertAccessible } from './lib/browser.mjs';
import { demoSession } from './lib/demo.mjs';

const PAD = 'Liaison CM1-6e : notre journal';
const SEEN_MS = 10_000;

const demo = demoSession();

/** Opens the demo pad's editor from the productions list and waits for the first sync. */
async function openPad(page) {
  await demo.openEditor(page, PAD, 'pad', { timeout: SEEN_MS });
  const editor = page.getByRole('textbox', { name: /Texte du pad/ });
  // The demo content came from the server's document, not from the page.
  await editor.getByText('Notre visite au collège').waitFor({ timeout: SEEN_MS });
  return editor;
}

/**
 * Types a new block: after the first heading (top) or at the end of the
 * document. The two pupils write in different places at the same time, as
 * a class does; typing at the very same spot would interleave letters.
 */
async function typeBlock(page, editor, text, where) {
  await editor.click();
  await page.keyboard.press(where === 'top' ? 'Control+Home' : 'Control+End');
  await page.keyboard.press('End');
  await page.keyboard.press('Enter');
  await page.keyboard.type(text, { delay: 10 });
}

/** The editor's text without the remote cursors' name tags. */
function padText(editor) {
  return editor.evaluate((el) => {
    const c = el.cloneNode(true);
    c.querySelectorAll('.pad-cursor').forEach((n) => n.remove());
    return c.textContent;
  });
}

test('two pupils of an école and a collège edit the same pad at once and see each other', async () => {
  const ecole = await demo.person('eleve@demo.socle.fr');
  const college = await demo.person('eleve.college@demo.socle.fr');
  try {
    const [edA, edB] = await Promise.all([openPad(ecole.page), openPad(college.page)]);
    assert.equal(ecole.page.url(), college.page.url(), 'both pupils open the same production');

    // Presence: each sees the other's name.
    await ecole.page.locator('[data-presence]').getByText('Nathan', { exact: false }).waitFor({ timeout: SEEN_MS });
    await college.page.locator('[data-presence]').getByText('Léa', { exact: false }).waitFor({ timeout: SEEN_MS });

    // Both type at the same time.
    const fromEcole = 'Bonjour de la part des CM1 ' + Date.now();
    const fromCollege = 'Salut, ici les 6e ' + Date.now();
    await Promise.all([typeBlock(ecole.page, edA, fromEcole, 'top'), typeBlock(college.page, edB, fromCollege, 'end')]);

    for (const [side, ed] of [['école', edA], ['collège', edB]]) {
      try {
        await ed.getByText(fromEcole).waitFor({ timeout: SEEN_MS });
        await ed.getByText(fromCollege).waitFor({ timeout: SEEN_MS });
      } catch (e) {
        throw new Error(`${side} editor: ${await ed.textContent()}\nécole: ${await edA.textContent()}\ncollège: ${await edB.textContent()}\n` +
          `${ecole.errors}\n${college.errors}\n${demo.socle.logs().slice(-2000)}`, { cause: e });
      }
    }
    // Same text on both sides once merged.
    const deadline = Date.now() + SEEN_MS;
    let a = await padText(edA);
    let b = await padText(edB);
    while (a !== b && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 200));
      [a, b] = [await padText(edA), await padText(edB)];
    }
    assert.equal(b, a, 'both editors converge to the same text');
    assert.ok(a.includes(fromEcole) && a.includes(fromCollege) && a.includes('Notre visite au collège'), 'both lines and the demo text: ' + a);

    // The server stored the edit: its read-only view shows it after a reload.
    const id = /\/productions\/(\d+)\//.exec(ecole.page.url())[1];
    const deadline2 = Date.now() + SEEN_MS;
    let html = '';
    while (Date.now() < deadline2) {
      html = await (await college.page.request.get(demo.url + '/productions/' + id)).text();
      if (html.includes(fromEcole) && html.includes(fromCollege)) break;
      await new Promise((r) => setTimeout(r, 300));
    }
    assert.ok(html.includes(fromEcole) && html.includes(fromCollege), 'the read-only view shows both pupils\' text');

    await assertAccessible(assert, ecole.page, 'éditeur du pad');
    assert.deepEqual(ecole.errors, [], 'no script error on the école side');
    assert.deepEqual(college.errors, [], 'no script error on the collège side');
  } finally {
    await ecole.context.close();
    await college.context.close();
  }
});

/** Asks a class or a group for a pad through the /travaux form, as a teacher would. */
async function assign(page, title, group) {
  await page.goto(demo.url + '/travaux');
  await page.getByLabel('Titre').fill(title);
  await page.getByLabel('Consigne').fill('Racontez votre semaine dans un pad, chacun le sien.');
  await page.getByLabel('Type de production').selectOption('pad');
  const select = page.getByLabel('Classe ou groupe');
  const label = await select.locator('option').filter({ hasText: group }).first().textContent();
  await select.selectOption({ label });
  await Promise.all([page.waitForURL(/\/travaux/), page.getByRole('button', { name: 'Demander et prévenir les élèves' }).click()]);
  await page.getByText(title).first().waitFor({ timeout: SEEN_MS });
}

test('one assignment to the cross-school liaison group notifies the pupils of the école and of the collège', async () => {
  const teacher = await demo.person('enseignant@demo.socle.fr');
  const collegeTeacher = await demo.person('paul.bernard@demo.socle.fr');
  const pupil = await demo.person('eleve@demo.socle.fr');
  const college = await demo.person('eleve.college@demo.socle.fr');
  try {
    const title = 'Journal de la semaine ' + Date.now();
    // The école teacher asks the liaison group (CM1 A and 6e A together).
    await assign(teacher.page, title + ' (liaison)', 'Liaison cycle 3');
    // The collège teacher asks his own class.
    await assign(collegeTeacher.page, title + ' (6e)', '6e A');
    for (const [p, titles] of [[pupil, [title + ' (liaison)']], [college, [title + ' (liaison)', title + ' (6e)']]]) {
      await p.page.goto(demo.url + '/notifications');
      for (const t of titles) await p.page.getByText(t).first().waitFor({ timeout: SEEN_MS });
    }
    await assertAccessible(assert, teacher.page, 'travaux demandés');
    assert.deepEqual(teacher.errors, []);
    assert.deepEqual(collegeTeacher.errors, []);
  } finally {
    for (const p of [teacher, collegeTeacher, pupil, college]) await p.context.close();
  }
});
