// The real-time timeline ("frise chronologique") in Debian's Chromium: a
// pupil of the demo école and a pupil of the demo collège open the demo's
// timeline together; one adds a period through the form, the other sees
// it and renames it, the first sees the new title; each sees what the
// other has selected; the zoom buttons change the axis; the server's
// read-only view lists the new event, which proves the editor wrote the
// document layout the server reads; and a deletion reaches the other side.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { assertAccessible } from './lib/browser.mjs';
import { demoSession } from './lib/demo.mjs';

const TIMELINE = 'Frise : de la Gaule à la Révolution';
const SEEN_MS = 15_000;

const demo = demoSession();

/** Opens the demo timeline's editor from the productions list and waits for the first sync. */
async function openTimeline(page) {
  await demo.openEditor(page, TIMELINE, 'timeline', { timeout: SEEN_MS });
  const list = page.getByRole('list', { name: /ordre chronologique/ });
  // The demo events came from the server's document, Alésia before our era.
  await list.getByRole('button', { name: /Alésia/ }).waitFor({ timeout: SEEN_MS });
  return list;
}

/** The list's item buttons, as read by a person: date then title. */
const itemTexts = (list) => list.locator('.tl-item').evaluateAll((items) => items.map((b) => b.textContent));

test('an école pupil and a collège pupil build the same timeline at once', async () => {
  const ecole = await demo.person('eleve@demo.socle.fr');
  const college = await demo.person('eleve.college@demo.socle.fr');
  try {
    const [listA, listB] = await Promise.all([openTimeline(ecole.page), openTimeline(college.page)]);
    assert.equal(ecole.page.url(), college.page.url(), 'both pupils open the same production');

    // The demo's dates in French and in chronological order.
    const demoItems = await itemTexts(listA);
    assert.match(demoItems[0], /52 av\. J\.-C\..*Alésia/, 'Alésia comes first, before our era: ' + demoItems);
    assert.match(demoItems[1], /25 décembre 800.*Sacre de Charlemagne/, 'then Charlemagne: ' + demoItems);
    assert.match(demoItems[2], /14 juillet 1789.*Prise de la Bastille/, 'then the Bastille: ' + demoItems);
    await ecole.page.locator('.tl-marker', { hasText: 'Alésia' }).waitFor({ timeout: SEEN_MS });

    // The form refuses a missing title and an end before the start, in French.
    await ecole.page.getByRole('button', { name: 'Ajouter un événement' }).click();
    const form = ecole.page.getByRole('form', { name: 'Nouvel événement' });
    await form.getByLabel('Début').fill('1291');
    await form.getByLabel('Fin').fill('1096');
    await form.getByRole('button', { name: 'Ajouter' }).click();
    await form.getByText('Indiquez un titre.').waitFor({ timeout: SEEN_MS });
    await form.getByText('La fin ne peut pas précéder le début.').waitFor({ timeout: SEEN_MS });

    // The école pupil adds a period; the collège pupil sees it, dated.
    const title = 'Les croisades ' + Date.now();
    await form.getByLabel('Titre').fill(title);
    await form.getByLabel('Début').fill('27/11/1095');
    await form.getByLabel('Fin').fill('1291');
    await form.getByRole('button', { name: 'Ajouter' }).click();
    await form.waitFor({ state: 'detached', timeout: SEEN_MS });
    const seen = listB.getByRole('button', { name: new RegExp(title) });
    try {
      await seen.waitFor({ timeout: SEEN_MS });
    } catch (e) {
      throw new Error(`collège list: ${await itemTexts(listB)}\n${ecole.errors}\n${college.errors}\n${demo.socle.logs().slice(-2000)}`, { cause: e });
    }
    assert.match(await seen.textContent(), /27 novembre 1095 – 1291/);
    const order = await itemTexts(listB);
    assert.ok(order.findIndex((t) => t.includes(title)) === 2, 'the period sits between Charlemagne and the Bastille: ' + order);
    await college.page.locator('.tl-bar', { hasText: title }).waitFor({ timeout: SEEN_MS });

    // The collège pupil selects it: the école pupil sees her selection with her name…
    await seen.click();
    await college.page.locator('.tl-card h3', { hasText: title }).waitFor({ timeout: SEEN_MS });
    await listA.locator('.tl-item.tl-remote', { hasText: title }).getByText('Nathan', { exact: false }).waitFor({ timeout: SEEN_MS });

    // …then renames it with the keyboard (Enter on the list item), and the école pupil sees the new title.
    const renamed = title.replace('Les croisades', 'Les huit croisades');
    await seen.focus();
    await college.page.keyboard.press('Enter');
    const editForm = college.page.getByRole('form', { name: "Modifier l'événement" });
    await editForm.getByLabel('Titre').fill(renamed);
    await editForm.getByRole('button', { name: 'Enregistrer' }).click();
    await listA.getByRole('button', { name: new RegExp(renamed) }).waitFor({ timeout: SEEN_MS });
    assert.equal(await listA.getByRole('button', { name: new RegExp(title) }).count(), 0, 'the old title is gone');

    // The zoom buttons change the axis: a wider canvas and finer ticks.
    const axis = async (page) => ({
      width: await page.locator('.tl-canvas').evaluate((c) => c.getBoundingClientRect().width),
      ticks: await page.locator('.tl-tick-label').allTextContents(),
      scale: await page.locator('[data-tl-scale]').textContent(),
    });
    const wide = await axis(ecole.page);
    assert.ok(wide.ticks.length > 2, 'the axis has ticks: ' + wide.ticks);
    const zoomIn = ecole.page.getByRole('button', { name: 'Zoom avant' });
    for (let i = 0; i < 4; i++) await zoomIn.click();
    const close = await axis(ecole.page);
    assert.ok(close.width > wide.width * 10, `zooming in widens the axis: ${wide.width} → ${close.width}`);
    assert.notEqual(close.scale, wide.scale, 'the scale changes: ' + close.scale);
    assert.notDeepEqual(close.ticks, wide.ticks, 'the ticks change');
    await ecole.page.getByRole('button', { name: 'Zoom arrière' }).click();
    const back = await axis(ecole.page);
    assert.ok(back.width < close.width, `zooming out narrows the axis: ${close.width} → ${back.width}`);

    // The server stored the period in its layout: its read-only view lists it.
    const id = /\/productions\/(\d+)\//.exec(ecole.page.url())[1];
    const deadline = Date.now() + SEEN_MS;
    let html = '';
    while (Date.now() < deadline) {
      html = await (await college.page.request.get(demo.url + '/productions/' + id)).text();
      if (html.includes(renamed)) break;
      await new Promise((r) => setTimeout(r, 300));
    }
    assert.ok(html.includes(renamed), 'the read-only view lists the renamed period');
    const row = html.split('<tr').find((r) => r.includes(renamed)) || '';
    assert.ok(row.includes('1095-11-27') && row.includes('1291'), 'with its start and end as ISO dates: ' + row);
    assert.ok(html.includes('-0052') && html.includes('Alésia'), 'and the demo events are still there');

    await assertAccessible(assert, ecole.page, 'éditeur de la frise');

    // The école pupil deletes the period (after confirming); it leaves the collège pupil's list too.
    await listA.getByRole('button', { name: new RegExp(renamed) }).click();
    await ecole.page.locator('.tl-card').getByRole('button', { name: 'Supprimer' }).click();
    await ecole.page.locator('.tl-card').getByRole('button', { name: 'Oui, supprimer' }).click();
    await listB.getByRole('button', { name: new RegExp(renamed) }).waitFor({ state: 'detached', timeout: SEEN_MS });
    assert.equal((await itemTexts(listB)).length, 3, 'the three demo events remain');

    assert.deepEqual(ecole.errors, [], 'no script error on the école side');
    assert.deepEqual(college.errors, [], 'no script error on the collège side');
  } finally {
    await ecole.context.close();
    await college.context.close();
  }
});
