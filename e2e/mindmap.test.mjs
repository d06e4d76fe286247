// The real-time mind map in Debian's Chromium: a pupil of the demo école and
// a pupil of the demo collège open the demo's "cycle de l'eau" map at the
// same time; one adds a branch, the other renames and recolours a node,
// both move nodes (by dragging and with the keyboard), fold a branch and
// delete one, and each sees the other's changes; the server's read-only
// view of the production then lists what they wrote.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { assertAccessible } from './lib/browser.mjs';
import { demoSession } from './lib/demo.mjs';

const MAP = "Carte mentale : le cycle de l'eau";
const SEEN_MS = 10_000;

const demo = demoSession();

/** Opens the demo map's editor from the productions list and waits for the demo nodes. */
async function openMap(page) {
  await demo.openEditor(page, MAP, 'mindmap', { timeout: SEEN_MS });
  const tree = page.getByRole('tree', { name: /Carte mentale/ });
  for (const text of ["Le cycle de l'eau", 'Évaporation', 'Condensation', 'Précipitations']) {
    await tree.getByRole('treeitem', { name: text, exact: true }).waitFor({ timeout: SEEN_MS });
  }
  return tree;
}

const item = (tree, name) => tree.getByRole('treeitem', { name, exact: true });

/** Where a node's box centre is from the centre of the root's box, in CSS pixels. */
async function offset(tree, name) {
  const [a, b] = await Promise.all([item(tree, "Le cycle de l'eau").boundingBox(), item(tree, name).boundingBox()]);
  assert.ok(a && b, `${name} and the root are on screen`);
  return { x: b.x + b.width / 2 - a.x - a.width / 2, y: b.y + b.height / 2 - a.y - a.height / 2 };
}

/** Waits until check() holds, and fails with what was last seen otherwise. */
async function eventually(what, probe, check) {
  const deadline = Date.now() + SEEN_MS;
  let seen;
  for (;;) {
    seen = await probe();
    if (check(seen)) return seen;
    if (Date.now() > deadline) assert.fail(`${what}: last seen ${JSON.stringify(seen)}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

const near = (a, b) => Math.abs(a - b) <= 3;

/** The node's accessible description (its colour, who else selected it). */
const description = (node) => node.evaluate((e) => document.getElementById(e.getAttribute('aria-describedby')).textContent);

test('a pupil of the école and a pupil of the collège edit the same mind map at once and see each other', async () => {
  const ecole = await demo.person('eleve@demo.socle.fr');
  const college = await demo.person('eleve.college@demo.socle.fr');
  try {
    const [treeA, treeB] = await Promise.all([openMap(ecole.page), openMap(college.page)]);
    assert.equal(ecole.page.url(), college.page.url(), 'both pupils open the same production');
    const id = /\/productions\/(\d+)\//.exec(ecole.page.url())[1];

    // The école pupil adds a branch to the centre with the keyboard (Tab), types its text.
    const added = 'Les nuages ' + Date.now();
    await item(treeA, "Le cycle de l'eau").click();
    await ecole.page.keyboard.press('Tab');
    const input = ecole.page.getByRole('textbox', { name: 'Texte du nœud' });
    await input.waitFor({ timeout: SEEN_MS });
    await input.fill(added);
    await input.press('Enter');
    await item(treeA, added).waitFor({ timeout: SEEN_MS });
    assert.equal(await item(treeA, added).getAttribute('aria-level'), '2', 'the new node is a branch of the centre');
    // The collège pupil sees it appear, with the école pupil's selection on it.
    await item(treeB, added).waitFor({ timeout: SEEN_MS });
    await eventually('the collège side shows who selected the new node', () => description(item(treeB, added)),
      (d) => /Sélectionné par Léa/.test(d));

    // The collège pupil renames a node (F2) and makes it green; the école pupil sees both.
    const renamed = 'Condensation des nuages';
    await item(treeB, 'Condensation').click();
    await college.page.keyboard.press('F2');
    const inputB = college.page.getByRole('textbox', { name: 'Texte du nœud' });
    await inputB.fill(renamed);
    await inputB.press('Enter');
    await college.page.getByRole('button', { name: 'Vert', exact: true }).click();
    assert.equal(await college.page.getByRole('button', { name: 'Vert', exact: true }).getAttribute('aria-pressed'), 'true');
    await item(treeA, renamed).waitFor({ timeout: SEEN_MS });
    await eventually('the école side shows the new colour', async () => ({
      description: await description(item(treeA, renamed)),
      border: await item(treeA, renamed).evaluate((e) => getComputedStyle(e).borderTopColor),
    }), (s) => s.description.includes('Couleur : vert') && s.border === 'rgb(27, 94, 32)');

    // The école pupil drags the new node: it moves for both.
    const before = await offset(treeA, added);
    assert.ok(Math.abs(before.x) > 50, 'a new branch of the centre sits beside it: ' + JSON.stringify(before));
    const box = await item(treeA, added).boundingBox();
    const [cx, cy] = [box.x + box.width / 2, box.y + box.height / 2];
    await ecole.page.mouse.move(cx, cy);
    await ecole.page.mouse.down();
    await ecole.page.mouse.move(cx + 40, cy + 90, { steps: 10 });
    await ecole.page.mouse.up();
    const dragged = await eventually('the école side keeps the dragged node where it was dropped', () => offset(treeA, added),
      (o) => near(o.x, before.x + 40) && near(o.y, before.y + 90));
    await eventually('the collège side sees the drag', () => offset(treeB, added),
      (o) => near(o.x, dragged.x) && near(o.y, dragged.y));

    // The collège pupil moves a node with the keyboard (Alt + arrows): the école pupil sees it.
    const evap = await offset(treeB, 'Évaporation');
    await item(treeB, 'Évaporation').click();
    await college.page.keyboard.press('Alt+ArrowUp');
    await college.page.keyboard.press('Alt+ArrowUp');
    await eventually('the école side sees the keyboard move', () => offset(treeA, 'Évaporation'),
      (o) => near(o.x, evap.x) && near(o.y, evap.y - 20));

    // Folding the centre (Space) hides its branches on the other side too.
    await item(treeA, "Le cycle de l'eau").click();
    await ecole.page.keyboard.press('Space');
    await eventually('the collège side sees the folded centre',
      async () => [await item(treeB, "Le cycle de l'eau").getAttribute('aria-expanded'), await item(treeB, renamed).isVisible()],
      ([expanded, visible]) => expanded === 'false' && !visible);
    await ecole.page.keyboard.press('Space');
    await item(treeB, renamed).waitFor({ timeout: SEEN_MS });

    await assertAccessible(assert, ecole.page, 'éditeur de la carte mentale');

    // The server's read-only view lists what they wrote: the layout is the server's.
    const html = await eventually('the read-only view lists the new and the renamed node',
      async () => (await college.page.request.get(demo.url + '/productions/' + id)).text(),
      (h) => h.includes(added) && h.includes(renamed));
    assert.ok(html.includes('Précipitations'), 'the demo nodes are still there');

    // The collège pupil deletes the new branch (after confirming); it goes for both and on the server.
    college.page.once('dialog', (d) => d.accept());
    await item(treeB, added).click();
    await college.page.keyboard.press('Delete');
    await eventually('the école side sees the deletion', () => item(treeA, added).count(), (n) => n === 0);
    await eventually('the read-only view no longer lists the deleted node',
      async () => (await ecole.page.request.get(demo.url + '/productions/' + id)).text(),
      (h) => !h.includes(added) && h.includes(renamed));

    assert.deepEqual(ecole.errors, [], 'no script error on the école side');
    assert.deepEqual(college.errors, [], 'no script error on the collège side');
  } finally {
    await ecole.context.close();
    await college.context.close();
  }
});
