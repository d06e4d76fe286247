// Socle's real-time mind map ("carte mentale"), bound to the production's
// Y.Map "nodes": id → Y.Map {text, parent ("" for a root), color, collapsed,
// x, y}. A node's x and y place its centre relative to its parent's centre
// (a root's relative to the middle of the map), as the demo content reads
// (the root at 0, 0, its branches at x 160), so a dragged node carries its
// branch along.
//
// The node boxes are the accessible tree themselves: a flat list of
// treeitems in depth-first order whose aria-level, aria-posinset and
// aria-setsize give the shape (a nested role="group" would make each
// branch's text part of its parent's visible label). An SVG layer behind
// draws the branches, a layer above the marks that are not part of a name.
// Everything is re-rendered from the document on observeDeep (local and
// remote changes alike); only the selection, the text being typed and a
// drag in progress live outside it.
import { connect, mountAll, el, Y, remoteStates } from './lib/common.js';

// The palette: the colours people choose from, with their French names.
const PALETTE = [
  ['', 'Aucune'], ['#1565c0', 'Bleu'], ['#b71c1c', 'Rouge'], ['#1b5e20', 'Vert'], ['#6a1b9a', 'Violet'],
  ['#e65100', 'Orange'], ['#00695c', 'Turquoise'], ['#4e342e', 'Marron'], ['#ad1457', 'Rose'],
];
const DEFAULT_COLOUR = '#5f5f5f';
const STEP = 10; // a keyboard move, in pixels (×5 with Maj)
const ROW = 60; // vertical distance between siblings
const MARGIN = 160; // free space around the map, for growing and dragging
const NEW_TEXT = 'Nouvelle idée';
const SVG = 'http://www.w3.org/2000/svg';

function colourName(c) {
  const hit = PALETTE.find(([v]) => v.toLowerCase() === String(c).toLowerCase());
  return hit ? hit[1].toLowerCase() : 'personnalisée';
}

const str = (v) => (typeof v === 'string' ? v : v === undefined || v === null ? '' : String(v));
const num = (v) => { const n = Number(v); return Number.isFinite(n) ? n : 0; };
const newID = () => 'n' + Date.now().toString(36) + Math.random().toString(36).slice(2, 6);

// readMap reads the document into plain nodes and the tree they form. A
// node whose parent is missing is a root, as for the server's exports; a
// cycle (only a forged document could hold one) is broken at its first id.
function readMap(nodesMap) {
  const nodes = new Map();
  nodesMap.forEach((v, id) => {
    if (!(v instanceof Y.Map)) return;
    nodes.set(id, {
      id, text: str(v.get('text')), parent: str(v.get('parent')), color: str(v.get('color')),
      collapsed: v.get('collapsed') === true || v.get('collapsed') === 'true', x: num(v.get('x')), y: num(v.get('y')),
    });
  });
  const ids = [...nodes.keys()].sort();
  const children = new Map(ids.map((id) => [id, []]));
  const parentOf = new Map();
  const roots = [];
  for (const id of ids) {
    const n = nodes.get(id);
    if (n.parent && n.parent !== id && nodes.has(n.parent)) {
      children.get(n.parent).push(n);
      parentOf.set(id, n.parent);
    } else roots.push(n);
  }
  const reached = new Set();
  const walk = (list) => list.forEach((n) => { if (!reached.has(n.id)) { reached.add(n.id); walk(children.get(n.id)); } });
  walk(roots);
  for (const id of ids) {
    if (reached.has(id)) continue;
    const p = parentOf.get(id);
    children.set(p, children.get(p).filter((n) => n.id !== id));
    parentOf.delete(id);
    roots.push(nodes.get(id));
    walk([nodes.get(id)]);
  }
  const byPlace = (a, b) => a.y - b.y || a.x - b.x || (a.id < b.id ? -1 : 1);
  roots.sort(byPlace);
  children.forEach((list) => list.sort(byPlace));
  return { nodes, children, parentOf, roots };
}

mountAll('mindmap', (root) => {
  const { ydoc, provider, awareness, readOnly, host } = connect(root);
  const nodesMap = ydoc.getMap('nodes');
  const undo = readOnly ? null : new Y.UndoManager(nodesMap);
  const label = root.dataset.label || 'Carte mentale';

  // ---- UI state (never shared) ----
  let model = readMap(nodesMap);
  let selected = null;
  let editing = null; // {id, input}
  let drag = null; // {id, pointerId, startX, startY, x0, y0, moved}
  let pan = null;
  let rendering = false;
  let origin = null; // where the map's (0, 0) sits in the canvas
  let measured = new Map(); // node id → its box, from the map's (0, 0)
  let peers = new Map(); // node id → the other people who selected it
  let centred = false;
  const views = new Map(); // node id → its elements
  let domSeq = 0;

  // ---- the page: help, toolbar, live region, canvas ----
  const help = el('p', { class: 'mindmap-help', id: 'mindmap-help' }, readOnly
    ? 'Lecture seule. Clavier : flèches haut et bas entre nœuds voisins, flèche droite vers les branches, flèche gauche vers le nœud parent.'
    : 'Clavier : flèches pour parcourir (droite : branches, gauche : parent), Tab pour ajouter une branche, '
      + 'Entrée pour ajouter au même niveau, F2 ou double-clic pour renommer, Espace pour replier ou déplier, '
      + 'Suppr pour supprimer, Alt + flèches pour déplacer (Maj pour aller plus loin), Maj + Tab pour quitter la carte. '
      + 'À la souris, faites glisser un nœud pour le déplacer, ou le fond pour parcourir la carte.');
  const live = el('p', { class: 'visually-hidden', 'aria-live': 'polite' });
  const links = document.createElementNS(SVG, 'svg');
  links.setAttribute('class', 'mindmap-links');
  links.setAttribute('aria-hidden', 'true');
  links.setAttribute('focusable', 'false');
  const tree = el('div', { class: 'mindmap-tree', role: 'tree', 'aria-label': label, 'aria-describedby': 'mindmap-help' });
  const empty = el('p', { class: 'mindmap-empty', hidden: true }, readOnly ? 'La carte est vide.'
    : 'La carte est vide : « Ajouter une branche » crée l\'idée centrale.');
  const marks = el('div', { class: 'mindmap-marks', 'aria-hidden': 'true' });
  const canvas = el('div', { class: 'mindmap-canvas' }, links, tree, marks);
  const viewport = el('div', { class: 'mindmap-viewport' }, canvas);

  const buttons = {};
  const button = (key, text, shortcut, action, extra = {}) => {
    const b = el('button', { type: 'button', 'aria-keyshortcuts': shortcut, ...extra }, ...[].concat(text));
    b.addEventListener('click', () => { if (b.getAttribute('aria-disabled') !== 'true') action(); });
    buttons[key] = b;
    return b;
  };
  const arrow = (key, glyph, words, shortcut, dx, dy) => button(key,
    [el('span', { 'aria-hidden': 'true' }, glyph), el('span', { class: 'visually-hidden' }, 'Déplacer ' + words)],
    shortcut, () => move(dx, dy), { title: 'Déplacer ' + words + ' (Alt + flèche)' });
  const swatches = PALETTE.map(([value, name]) => {
    const dot = el('span', { class: 'mindmap-swatch', 'aria-hidden': 'true' });
    if (value) dot.style.backgroundColor = value; else dot.classList.add('mindmap-swatch-none');
    const b = el('button', { type: 'button', 'aria-pressed': 'false', 'data-colour': value }, dot, name);
    b.addEventListener('click', () => { if (b.getAttribute('aria-disabled') !== 'true') setColour(value); });
    return b;
  });
  const toolbar = el('div', { class: 'mindmap-toolbar', role: 'toolbar', 'aria-label': 'Outils de la carte mentale' },
    el('div', { class: 'mindmap-tools' },
      button('child', 'Ajouter une branche', 'Tab', () => addChild()),
      button('sibling', 'Ajouter au même niveau', 'Enter', () => addSibling()),
      button('edit', 'Renommer', 'F2', () => startEdit(selected)),
      button('fold', 'Replier', 'Space', () => toggleFold()),
      button('remove', 'Supprimer', 'Delete', () => removeBranch()),
      button('undo', 'Annuler', 'Control+Z', () => undo.undo()),
      button('redo', 'Rétablir', 'Control+Y', () => undo.redo())),
    el('div', { class: 'mindmap-tools', role: 'group', 'aria-label': 'Déplacer le nœud' },
      el('span', { 'aria-hidden': 'true' }, 'Déplacer :'),
      arrow('left', '←', 'vers la gauche', 'Alt+ArrowLeft', -1, 0),
      arrow('up', '↑', 'vers le haut', 'Alt+ArrowUp', 0, -1),
      arrow('down', '↓', 'vers le bas', 'Alt+ArrowDown', 0, 1),
      arrow('right', '→', 'vers la droite', 'Alt+ArrowRight', 1, 0)),
    el('div', { class: 'mindmap-tools', role: 'group', 'aria-labelledby': 'mindmap-colour-label' },
      el('span', { id: 'mindmap-colour-label' }, 'Couleur du nœud :'), ...swatches));
  host.replaceChildren(help, ...(readOnly ? [] : [toolbar]), live, empty, viewport);

  // ---- rendering ----
  function view(id) {
    let v = views.get(id);
    if (v) return v;
    const dom = 'mindmap-node-' + (++domSeq);
    v = {
      label: el('span', { class: 'mindmap-label', id: dom + '-label' }),
      desc: el('span', { class: 'visually-hidden', id: dom + '-desc' }),
    };
    v.item = el('div', { class: 'mindmap-node', role: 'treeitem', id: dom, tabindex: '-1', 'aria-selected': 'false',
      'aria-labelledby': dom + '-label', 'aria-describedby': dom + '-desc', 'data-node': id }, v.label, v.desc);
    views.set(id, v);
    return v;
  }

  // effective colour: the node's own, else its parent's, as the branches show.
  function colourOf(id) {
    for (let n = model.nodes.get(id); n; n = model.nodes.get(model.parentOf.get(n.id))) if (n.color) return n.color;
    return DEFAULT_COLOUR;
  }

  // place updates the boxes of list (siblings at level, their parent's
  // centre at px, py) and their branches, and lists them in depth-first order.
  function place(list, level, px, py, hidden, order) {
    list.forEach((n, i) => {
      const v = view(n.id);
      const kids = model.children.get(n.id);
      const dragged = drag && drag.moved && drag.id === n.id;
      const [x, y] = [px + (dragged ? drag.x : n.x), py + (dragged ? drag.y : n.y)];
      v.item.hidden = hidden;
      v.item.style.left = x + 'px';
      v.item.style.top = y + 'px';
      v.item.style.setProperty('--node-colour', colourOf(n.id));
      v.item.classList.toggle('is-root', level === 1);
      v.item.setAttribute('aria-level', String(level));
      v.item.setAttribute('aria-setsize', String(list.length));
      v.item.setAttribute('aria-posinset', String(i + 1));
      if (kids.length) v.item.setAttribute('aria-expanded', String(!n.collapsed));
      else v.item.removeAttribute('aria-expanded');
      v.label.textContent = n.text || 'Sans titre';
      v.label.classList.toggle('is-untitled', !n.text);
      order.push(v.item);
      place(kids, level + 1, x, y, hidden || n.collapsed, order);
    });
  }

  function countBranch(id) {
    return model.children.get(id).reduce((s, c) => s + 1 + countBranch(c.id), 0);
  }

  function render() {
    const previous = model;
    model = readMap(nodesMap);
    const active = document.activeElement;
    const focusInTree = tree.contains(active);
    const caret = editing && active === editing.input ? [editing.input.selectionStart, editing.input.selectionEnd] : null;
    rendering = true;
    for (const [id, v] of views) if (!model.nodes.has(id)) { v.item.remove(); views.delete(id); }
    const order = [];
    place(model.roots, 1, 0, 0, false, order);
    // Move only what is out of place: moving an element loses its focus.
    order.forEach((item, i) => { if (tree.children[i] !== item) tree.insertBefore(item, tree.children[i] || null); });
    rendering = false;
    if (editing && !model.nodes.has(editing.id)) editing = null;

    empty.hidden = model.nodes.size > 0 || root.dataset.synced !== 'true';
    tree.hidden = model.nodes.size === 0; // an empty tree would have no treeitem
    const next = visibleAncestor(selected, previous);
    if (next !== selected) setSelected(next);
    else markSelection();
    readPeers();
    layout();
    updateToolbar();
    if (caret && document.activeElement !== editing?.input && editing) {
      editing.input.focus({ preventScroll: true });
      editing.input.setSelectionRange(...caret);
    } else if (focusInTree && !editing && selected && document.activeElement !== views.get(selected).item) {
      views.get(selected).item.focus({ preventScroll: true });
    }
  }

  // visibleAncestor is where the selection goes when its node disappears
  // (its nearest remaining ancestor, as known before) or hides in a folded
  // branch (the folded node); the first root when there is nothing left.
  function visibleAncestor(id, previous) {
    while (id && !model.nodes.has(id)) id = previous.parentOf.get(id);
    if (!id) return model.roots[0]?.id ?? null;
    let shown = id;
    for (let a = model.parentOf.get(id); a; a = model.parentOf.get(a)) if (model.nodes.get(a).collapsed) shown = a;
    return shown;
  }

  // layout sizes the canvas around the map, keeps what is on screen in place
  // when the map grows to the left or the top, and draws the branches and
  // the marks.
  function layout() {
    const base = tree.getBoundingClientRect();
    const boxes = new Map();
    measured = boxes;
    let [minX, minY, maxX, maxY] = [0, 0, 0, 0];
    const measure = (list) => list.forEach((n) => {
      const r = views.get(n.id).item.getBoundingClientRect();
      const b = { l: r.left - base.left, t: r.top - base.top, r: r.right - base.left, b: r.bottom - base.top };
      b.cy = (b.t + b.b) / 2;
      b.cx = (b.l + b.r) / 2;
      boxes.set(n.id, b);
      [minX, minY, maxX, maxY] = [Math.min(minX, b.l), Math.min(minY, b.t), Math.max(maxX, b.r), Math.max(maxY, b.b)];
      if (!n.collapsed) measure(model.children.get(n.id));
    });
    measure(model.roots);
    const width = Math.max(viewport.clientWidth, maxX - minX + 2 * MARGIN);
    const height = Math.max(viewport.clientHeight, maxY - minY + 2 * MARGIN);
    const o = { x: Math.round((width - (maxX - minX)) / 2 - minX), y: Math.round((height - (maxY - minY)) / 2 - minY) };
    canvas.style.width = width + 'px';
    canvas.style.height = height + 'px';
    tree.style.left = o.x + 'px';
    tree.style.top = o.y + 'px';
    if (origin) {
      viewport.scrollLeft += o.x - origin.x;
      viewport.scrollTop += o.y - origin.y;
    }
    origin = o;
    if (!centred && model.roots.length) {
      const r = boxes.get(model.roots[0].id);
      viewport.scrollLeft = o.x + r.cx - viewport.clientWidth / 2;
      viewport.scrollTop = o.y + r.cy - viewport.clientHeight / 2;
      centred = true;
    }

    links.setAttribute('width', String(width));
    links.setAttribute('height', String(height));
    const paths = [];
    for (const [id, c] of boxes) {
      const p = boxes.get(model.parentOf.get(id));
      if (!p) continue;
      const right = c.cx >= p.cx;
      const [x1, y1, x2, y2] = [(right ? p.r : p.l) + o.x, p.cy + o.y, (right ? c.l : c.r) + o.x, c.cy + o.y];
      const mx = (x1 + x2) / 2;
      const path = document.createElementNS(SVG, 'path');
      path.setAttribute('d', `M${x1} ${y1}C${mx} ${y1} ${mx} ${y2} ${x2} ${y2}`);
      path.setAttribute('stroke', colourOf(id));
      paths.push(path);
    }
    links.replaceChildren(...paths);
    drawMarks();
  }

  // drawMarks puts beside the boxes what is not part of a node's name: how
  // many nodes a folded branch hides (a click unfolds it), and the other
  // people's selection, a dashed frame in their colour with their names.
  function drawMarks() {
    const marked = [];
    for (const [id, b] of measured) {
      const n = model.nodes.get(id);
      if (!n) continue; // gone since the last layout, which comes next
      if (n.collapsed && model.children.get(id).length) {
        const fold = el('span', { class: 'mindmap-fold' + (n.x < 0 ? ' is-left' : ''), 'data-node': id }, '+' + countBranch(id));
        fold.style.left = (n.x < 0 ? b.l : b.r) + origin.x + 'px';
        fold.style.top = b.cy + origin.y + 'px';
        fold.style.setProperty('--node-colour', colourOf(id));
        marked.push(fold);
      }
      const people = peers.get(id);
      if (people) {
        const frame = el('span', { class: 'mindmap-peers' }, el('span', { class: 'mindmap-peer-names' }, ...people.map((u) => {
          const tag = el('span', { class: 'mindmap-peer-name' }, u.name);
          tag.style.setProperty('--peer', u.color);
          return tag;
        })));
        frame.style.left = b.l + origin.x - 8 + 'px';
        frame.style.top = b.t + origin.y - 8 + 'px';
        frame.style.width = b.r - b.l + 16 + 'px';
        frame.style.height = b.b - b.t + 16 + 'px';
        frame.style.setProperty('--peer', people[0].color);
        marked.push(frame);
      }
    }
    marks.replaceChildren(...marked);
  }

  // ---- selection and presence ----
  function markSelection() {
    for (const [id, v] of views) {
      const on = id === selected;
      v.item.setAttribute('aria-selected', String(on));
      v.item.tabIndex = on ? 0 : -1;
      v.item.classList.toggle('is-selected', on);
    }
  }

  function setSelected(id) {
    selected = id;
    markSelection();
    awareness.setLocalStateField('selection', id);
    updateToolbar();
  }

  function select(id) {
    if (!id || !views.has(id)) return;
    if (id !== selected) setSelected(id);
    views.get(id).item.focus();
  }

  // readPeers finds the node each other person has selected, names them in
  // the node's description and has drawMarks outline it.
  function readPeers() {
    const byNode = new Map();
    for (const s of remoteStates(awareness)) {
      if (typeof s.selection !== 'string' || !views.has(s.selection)) continue;
      if (!byNode.has(s.selection)) byNode.set(s.selection, []);
      byNode.get(s.selection).push(s.user);
    }
    peers = byNode;
    for (const [id, v] of views) {
      const n = model.nodes.get(id);
      const parts = [];
      if (n.color) parts.push('Couleur : ' + colourName(n.color) + '.');
      if (byNode.has(id)) parts.push('Sélectionné par ' + byNode.get(id).map((u) => u.name).join(', ') + '.');
      v.desc.textContent = parts.join(' ');
    }
  }

  function updateToolbar() {
    if (readOnly) return;
    const n = model.nodes.get(selected);
    const off = (b, disabled) => b.setAttribute('aria-disabled', String(Boolean(disabled)));
    off(buttons.child, !n && model.nodes.size > 0);
    off(buttons.sibling, !n);
    for (const k of ['edit', 'remove', 'left', 'up', 'down', 'right']) off(buttons[k], !n);
    const kids = n ? model.children.get(n.id).length : 0;
    off(buttons.fold, !kids);
    buttons.fold.textContent = n && n.collapsed ? 'Déplier' : 'Replier';
    off(buttons.undo, !undo.canUndo());
    off(buttons.redo, !undo.canRedo());
    for (const s of swatches) {
      off(s, !n);
      s.setAttribute('aria-pressed', String(Boolean(n) && s.dataset.colour.toLowerCase() === n.color.toLowerCase()));
    }
  }

  // ---- changes: every one goes through the document ----
  const nodeMap = (id) => nodesMap.get(id);

  function create(fields) {
    const id = newID();
    ydoc.transact(() => {
      const m = new Y.Map();
      for (const [k, v] of Object.entries({ text: NEW_TEXT, color: '', collapsed: false, ...fields })) m.set(k, v);
      nodesMap.set(id, m);
    });
    select(id);
    startEdit(id);
  }

  // addChild puts a new branch under the selected node, on the side with
  // fewer branches for a root, on the node's own side otherwise, below the
  // last branch of that side. With an empty map it creates the centre.
  function addChild() {
    if (readOnly) return;
    const n = model.nodes.get(selected);
    if (!n) {
      if (model.nodes.size === 0) create({ text: root.dataset.title || 'Idée centrale', parent: '', x: 0, y: 0 });
      return;
    }
    const kids = model.children.get(n.id);
    let side = n.x < 0 ? -1 : 1;
    if (!model.parentOf.has(n.id)) side = kids.filter((c) => c.x < 0).length < kids.filter((c) => c.x >= 0).length ? -1 : 1;
    const same = kids.filter((c) => (c.x < 0 ? -1 : 1) === side);
    const width = views.get(n.id).item.getBoundingClientRect().width;
    const x = side * Math.max(160, Math.round((width / 2 + 110) / 10) * 10);
    const y = same.length ? Math.max(...same.map((c) => c.y)) + ROW : 0;
    if (n.collapsed) ydoc.transact(() => nodeMap(n.id).set('collapsed', false));
    create({ parent: n.id, x, y });
  }

  // addSibling inserts a node just below the selected one, pushing the
  // siblings below it on the same side one row down.
  function addSibling() {
    if (readOnly) return;
    const n = model.nodes.get(selected);
    if (!n) return;
    const parent = model.parentOf.get(n.id);
    if (!parent) { addChild(); return; }
    const side = n.x < 0 ? -1 : 1;
    ydoc.transact(() => {
      for (const s of model.children.get(parent)) {
        if (s.id !== n.id && (s.x < 0 ? -1 : 1) === side && s.y > n.y) nodeMap(s.id).set('y', s.y + ROW);
      }
    });
    create({ parent, x: n.x, y: n.y + ROW });
  }

  function removeBranch() {
    if (readOnly) return;
    const n = model.nodes.get(selected);
    if (!n) return;
    const count = countBranch(n.id);
    const what = '« ' + (n.text || 'Sans titre') + ' »' + (count ? ` et ses ${count} sous-nœud${count > 1 ? 's' : ''}` : '');
    if (!window.confirm('Supprimer ' + what + ' ?')) return;
    const ids = [];
    const collect = (id) => { ids.push(id); model.children.get(id).forEach((c) => collect(c.id)); };
    collect(n.id);
    const parent = model.parentOf.get(n.id);
    ydoc.transact(() => ids.forEach((id) => nodesMap.delete(id)));
    announce('Supprimé : ' + what + '.');
    select(parent && views.has(parent) ? parent : model.roots[0]?.id);
  }

  function toggleFold() {
    const n = model.nodes.get(selected);
    if (readOnly || !n || !model.children.get(n.id).length) return;
    ydoc.transact(() => nodeMap(n.id).set('collapsed', !n.collapsed));
  }

  function setColour(value) {
    const n = model.nodes.get(selected);
    if (readOnly || !n) return;
    ydoc.transact(() => nodeMap(n.id).set('color', value));
  }

  function move(dx, dy, far = false) {
    const n = model.nodes.get(selected);
    if (readOnly || !n) return;
    const step = far ? STEP * 5 : STEP;
    ydoc.transact(() => {
      const m = nodeMap(n.id);
      if (dx) m.set('x', n.x + dx * step);
      if (dy) m.set('y', n.y + dy * step);
    });
    views.get(n.id)?.item.scrollIntoView({ block: 'nearest', inline: 'nearest' });
  }

  // ---- editing a node's text ----
  function startEdit(id) {
    if (readOnly || !views.has(id)) return;
    if (editing) finishEdit(true, false);
    const v = views.get(id);
    const text = model.nodes.get(id).text;
    const input = el('input', { type: 'text', class: 'mindmap-input', 'aria-label': 'Texte du nœud', maxlength: '500',
      size: String(Math.max(8, text.length + 1)) });
    input.value = text;
    editing = { id, input };
    v.label.hidden = true;
    v.item.insertBefore(input, v.label);
    input.addEventListener('input', () => { input.size = Math.max(8, input.value.length + 1); layout(); });
    input.addEventListener('keydown', (e) => {
      e.stopPropagation();
      if (e.key === 'Enter') { e.preventDefault(); finishEdit(true, true); }
      else if (e.key === 'Escape') { e.preventDefault(); finishEdit(false, true); }
      else if (e.key === 'Tab' && !e.shiftKey) { e.preventDefault(); finishEdit(true, true); addChild(); }
    });
    input.addEventListener('blur', () => { if (!rendering && editing?.input === input) finishEdit(true, false); });
    input.addEventListener('pointerdown', (e) => e.stopPropagation());
    input.addEventListener('dblclick', (e) => e.stopPropagation());
    input.focus();
    input.select();
    layout();
  }

  function finishEdit(save, refocus) {
    const { id, input } = editing;
    editing = null;
    const text = input.value.trim();
    input.remove();
    const v = views.get(id);
    if (v) v.label.hidden = false;
    if (save && model.nodes.has(id) && text !== model.nodes.get(id).text) ydoc.transact(() => nodeMap(id).set('text', text));
    else layout();
    if (refocus && views.has(id)) views.get(id).item.focus();
  }

  // ---- keyboard ----
  function siblingsOf(id) {
    const p = model.parentOf.get(id);
    return p ? model.children.get(p) : model.roots;
  }

  tree.addEventListener('keydown', (e) => {
    if (e.target !== views.get(selected)?.item) return;
    const n = model.nodes.get(selected);
    const arrows = { ArrowLeft: [-1, 0], ArrowRight: [1, 0], ArrowUp: [0, -1], ArrowDown: [0, 1] };
    const key = e.key;
    let done = true;
    if (arrows[key] && e.altKey) {
      if (readOnly) done = false; else move(...arrows[key], e.shiftKey);
    } else if (e.ctrlKey || e.metaKey || e.altKey) {
      const k = key.toLowerCase();
      if (!readOnly && k === 'z' && !e.shiftKey) undo.undo();
      else if (!readOnly && (k === 'y' || (k === 'z' && e.shiftKey))) undo.redo();
      else done = false;
    } else if (key === 'ArrowUp' || key === 'ArrowDown') {
      const list = siblingsOf(n.id);
      const i = list.findIndex((s) => s.id === n.id) + (key === 'ArrowUp' ? -1 : 1);
      if (list[i]) select(list[i].id);
    } else if (key === 'ArrowRight') {
      const kids = model.children.get(n.id);
      if (kids.length && n.collapsed && !readOnly) toggleFold();
      else if (kids.length && !n.collapsed) select(kids[0].id);
    } else if (key === 'ArrowLeft') {
      select(model.parentOf.get(n.id));
    } else if (key === 'Home') {
      select(model.roots[0]?.id);
    } else if (readOnly) {
      done = false;
    } else if (key === 'Tab' && !e.shiftKey) {
      addChild();
    } else if (key === 'Enter') {
      addSibling();
    } else if (key === 'F2') {
      startEdit(n.id);
    } else if (key === 'Delete' || key === 'Backspace') {
      removeBranch();
    } else if (key === ' ') {
      toggleFold();
    } else done = false;
    if (done) e.preventDefault();
  });

  tree.addEventListener('focusin', (e) => {
    const item = e.target.closest('.mindmap-node');
    if (item === e.target && item.dataset.node !== selected) setSelected(item.dataset.node);
  });

  // ---- pointer: select, drag a node (its branch follows), pan the map ----
  tree.addEventListener('pointerdown', (e) => {
    const item = e.target.closest('.mindmap-node');
    if (!item || e.button !== 0) return;
    e.stopPropagation();
    const id = item.dataset.node;
    if (readOnly) return;
    const n = model.nodes.get(id);
    drag = { id, pointerId: e.pointerId, startX: e.clientX, startY: e.clientY, x0: n.x, y0: n.y, x: n.x, y: n.y, moved: false };
    item.setPointerCapture(e.pointerId);
  });
  tree.addEventListener('pointermove', (e) => {
    if (!drag || e.pointerId !== drag.pointerId) return;
    const dx = e.clientX - drag.startX;
    const dy = e.clientY - drag.startY;
    if (!drag.moved && Math.hypot(dx, dy) < 4) return;
    drag.moved = true;
    drag.x = Math.round(drag.x0 + dx);
    drag.y = Math.round(drag.y0 + dy);
    views.get(drag.id)?.item.classList.add('is-dragging');
    render(); // the node and its branch follow the pointer
  });
  const endDrag = (e, keep) => {
    if (!drag || e.pointerId !== drag.pointerId) return;
    const d = drag;
    drag = null;
    views.get(d.id)?.item.classList.remove('is-dragging');
    if (keep && d.moved && model.nodes.has(d.id)) {
      ydoc.transact(() => { const m = nodeMap(d.id); m.set('x', d.x); m.set('y', d.y); });
    } else if (d.moved) render();
  };
  tree.addEventListener('pointerup', (e) => endDrag(e, true));
  tree.addEventListener('pointercancel', (e) => endDrag(e, false));
  tree.addEventListener('dblclick', (e) => {
    const item = e.target.closest('.mindmap-node');
    if (item) startEdit(item.dataset.node);
  });
  marks.addEventListener('pointerdown', (e) => {
    const fold = e.target.closest('.mindmap-fold');
    if (!fold || e.button !== 0) return;
    e.stopPropagation();
    e.preventDefault();
    select(fold.dataset.node);
    toggleFold();
  });

  viewport.addEventListener('pointerdown', (e) => {
    if (e.pointerType !== 'mouse' || e.button !== 0) return;
    const r = viewport.getBoundingClientRect();
    if (e.clientX - r.left - viewport.clientLeft >= viewport.clientWidth
      || e.clientY - r.top - viewport.clientTop >= viewport.clientHeight) return; // on a scrollbar
    pan = { pointerId: e.pointerId, x: e.clientX, y: e.clientY, left: viewport.scrollLeft, top: viewport.scrollTop };
    viewport.setPointerCapture(e.pointerId);
    viewport.classList.add('is-panning');
  });
  viewport.addEventListener('pointermove', (e) => {
    if (!pan || e.pointerId !== pan.pointerId) return;
    viewport.scrollLeft = pan.left - (e.clientX - pan.x);
    viewport.scrollTop = pan.top - (e.clientY - pan.y);
  });
  const endPan = () => { pan = null; viewport.classList.remove('is-panning'); };
  viewport.addEventListener('pointerup', endPan);
  viewport.addEventListener('pointercancel', endPan);

  // ---- remote changes: re-render, and say what changed ----
  function announce(text) {
    live.textContent = '';
    setTimeout(() => { live.textContent = text; }, 50);
  }

  function describeRemote(events, before) {
    const said = [];
    const name = (id, m) => '« ' + (m?.text || before.nodes.get(id)?.text || 'Sans titre') + ' »';
    for (const ev of events) {
      if (ev.target === nodesMap) {
        ev.changes.keys.forEach((c, id) => {
          if (c.action === 'add') said.push('Nœud ajouté : ' + name(id, model.nodes.get(id)) + '.');
          else if (c.action === 'delete') said.push('Nœud supprimé : ' + name(id) + '.');
        });
      } else if (ev.path.length === 1) { // a node's own fields
        const id = ev.path[0];
        const n = model.nodes.get(id);
        if (!n) continue;
        if (ev.keysChanged.has('text')) said.push('Nœud renommé : ' + name(id, n) + '.');
        if (ev.keysChanged.has('color')) said.push('Couleur de ' + name(id, n) + ' : ' + (n.color ? colourName(n.color) : 'aucune') + '.');
        if (ev.keysChanged.has('collapsed')) said.push('Branche ' + name(id, n) + (n.collapsed ? ' repliée.' : ' dépliée.'));
      }
    }
    if (said.length) announce(said.slice(0, 3).join(' ') + (said.length > 3 ? ' …' : ''));
  }

  nodesMap.observeDeep((events, tx) => {
    const before = model;
    render();
    if (!tx.local) describeRemote(events, before);
  });
  undo?.on('stack-item-added', updateToolbar);
  undo?.on('stack-item-popped', updateToolbar);
  awareness.on('change', () => { readPeers(); drawMarks(); });
  provider.on('sync', (synced) => { if (synced) render(); });
  window.addEventListener('resize', layout);
  render();
});
