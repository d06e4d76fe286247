// Socle's collaborative wall ("mur collaboratif"), in the manner of Padlet:
// cards of text with an optional link and image, shown in columns when
// they name one and placed freely on a board when they do not.
//
// The document follows the server's layout (internal/ent/production/
// model.go): Y.Array "cards" of Y.Map {text, image, link, x, y, column}.
// That layout gives cards no identity, so here a card is its Y.Map; other
// browsers (presence) name it by the Yjs item holding the Y.Map, which is
// the same everywhere. A Y.Array cannot move an element, so a reorder
// deletes the card and inserts a copy; the copy carries an "id" key (the
// server ignores it) so that when two people move the same card at once,
// the two copies are recognised and one is kept.
//
// Everything shown is rendered from the document on observeDeep, for local
// and remote changes alike; the only state kept outside it is the
// selection and a drag in progress.
import { connect, mountAll, Y, el, safeURL, remoteStates } from './lib/common.js';

const STEP = 10; // pixels per arrow key on the board; five times more with Shift
const SLOT = { width: 240, height: 190, perRow: 4 }; // where new free cards land
const SHORT = 40; // characters of a card's text in button names and messages

// ---- the layout ----

const isCard = (v) => v instanceof Y.Map;
const textOf = (card, key) => { const v = card.get(key); return typeof v === 'string' ? v : ''; };
const numberOf = (card, key) => { const v = Number(card.get(key)); return Number.isFinite(v) ? v : 0; };
const columnOf = (card) => textOf(card, 'column');

// keyOf names a card in every browser: the id of the Yjs item holding it.
function keyOf(card) {
  const item = card._item;
  return item ? `${item.id.client}.${item.id.clock}` : '';
}

// identityOf survives a move: the copy inherits it (see moveCard).
const identityOf = (card) => textOf(card, 'id') || keyOf(card);

let sequence = 0;
const newID = (ydoc) => `${ydoc.clientID.toString(36)}-${Date.now().toString(36)}-${(sequence++).toString(36)}`;

function short(text) {
  const t = text.replace(/\s+/g, ' ').trim();
  return t.length > SHORT ? t.slice(0, SHORT - 1) + '…' : t;
}

// columnNames lists the columns in order of first appearance.
function columnNames(cards) {
  const names = [];
  for (const c of cards.toArray()) if (isCard(c) && columnOf(c) && !names.includes(columnOf(c))) names.push(columnOf(c));
  return names;
}

const inColumn = (cards, column) => cards.toArray().filter((c) => isCard(c) && columnOf(c) === column);

const nameOf = (card) => short(textOf(card, 'text')) || short(textOf(card, 'link')) || 'sans texte';

// normalizeURL takes what pupils type ("www.onisep.fr") as an https
// address; it returns null for an address safeURL would refuse.
function normalizeURL(raw) {
  const v = raw.trim();
  if (!v) return '';
  const full = /^[a-z][a-z0-9+.-]*:/i.test(v) || v.startsWith('/') ? v : 'https://' + v;
  return safeURL(full) === '#' ? null : full;
}

function lastIndex(list, test) {
  for (let i = list.length - 1; i >= 0; i--) if (test(list[i])) return i;
  return -1;
}

// syncChildren makes parent's element children exactly wanted, moving only
// what is out of place, so that focus and pointer capture survive renders.
function syncChildren(parent, wanted) {
  wanted.forEach((child, i) => {
    if (parent.children[i] !== child) parent.insertBefore(child, parent.children[i] || null);
  });
  while (parent.children.length > wanted.length) parent.lastElementChild.remove();
}

const button = (label, onClick, attrs) => {
  const b = el('button', { type: 'button', class: 'button', ...attrs }, ...[].concat(label));
  b.addEventListener('click', onClick);
  return b;
};

// ---- images ----

// upload sends an image to the production's media endpoint and resolves to
// its address, or rejects with a message for the person.
async function upload(api, csrf, file) {
  const body = new FormData();
  body.append('file', file);
  let res;
  try {
    res = await fetch(api + '/media', { method: 'POST', body, headers: { 'X-CSRF-Token': csrf }, credentials: 'same-origin' });
  } catch {
    throw new Error("L'image n'a pas pu être envoyée : vérifiez la connexion, puis réessayez.");
  }
  if (res.status === 404) {
    throw new Error("L'envoi d'images n'est pas encore possible sur ce service : indiquez plutôt l'adresse d'une image dans le champ « Image ».");
  }
  if (res.status === 413) throw new Error('Cette image est trop lourde : choisissez-en une plus légère.');
  if (res.status === 415) throw new Error("Ce fichier n'est pas une image acceptée : choisissez une photo ou un dessin (PNG, JPEG, GIF, WebP).");
  let data = {};
  try { data = await res.json(); } catch { /* the message below says enough */ }
  if (!res.ok || typeof data.url !== 'string') {
    throw new Error(data.detail || `L'image n'a pas pu être envoyée (erreur ${res.status}).`);
  }
  return data.url;
}

// ---- the card form ----

// cardDialog is the modal form that adds and edits cards; open() fills it
// and calls onSave with {text, link, image, column} when it is sent.
function cardDialog(prefix, api, csrf) {
  const id = (s) => `${prefix}-${s}`;
  const title = el('h2', { id: id('title') });
  const text = el('textarea', { id: id('text'), rows: 4 });
  const link = el('input', { id: id('link'), type: 'url', inputmode: 'url', autocomplete: 'off', 'aria-describedby': id('link-hint') });
  const image = el('input', { id: id('image'), type: 'url', inputmode: 'url', autocomplete: 'off', 'aria-describedby': id('image-hint') });
  const file = el('input', { id: id('file'), type: 'file', accept: 'image/*', 'aria-describedby': id('file-status') });
  const fileStatus = el('p', { id: id('file-status'), class: 'hint', role: 'status' });
  const column = el('input', { id: id('column'), type: 'text', list: id('columns'), autocomplete: 'off', 'aria-describedby': id('column-hint') });
  const columns = el('datalist', { id: id('columns') });
  const error = el('p', { class: 'wall-error', role: 'alert' });
  const columnHint = el('span', { class: 'hint', id: column.id + '-hint' });
  const field = (input, label, hint) => el('div', { class: 'field' }, el('label', { for: input.id }, label),
    typeof hint === 'string' ? el('span', { class: 'hint', id: input.id + '-hint' }, hint) : hint, input);
  const textField = field(text, 'Texte');
  const columnField = field(column, 'Colonne', columnHint);
  const form = el('form', { class: 'form', novalidate: true }, title,
    textField,
    field(link, 'Lien', 'Facultatif : une adresse web, par exemple https://www.onisep.fr/'),
    field(image, 'Image', "Facultatif : l'adresse d'une image, ou envoyez-en une ci-dessous."),
    el('div', { class: 'field' }, el('label', { for: file.id }, 'Envoyer une image'), file, fileStatus),
    columnField,
    columns, error,
    el('p', { class: 'wall-dialog-actions' },
      el('button', { type: 'submit', class: 'button primary' }, 'Enregistrer'),
      button('Annuler', () => dialog.close())));
  const dialog = el('dialog', { class: 'wall-dialog', 'aria-labelledby': title.id }, form);

  let current = null; // the open() call being answered
  let uploading = false;

  const fail = (input, message) => {
    error.textContent = message;
    input.setAttribute('aria-invalid', 'true');
    input.focus();
  };

  file.addEventListener('change', async () => {
    const f = file.files[0];
    if (!f) return;
    uploading = true;
    fileStatus.classList.remove('wall-error');
    fileStatus.textContent = "Envoi de l'image…";
    try {
      image.value = await upload(api, csrf, f);
      fileStatus.textContent = 'Image envoyée : son adresse est dans le champ « Image ».';
    } catch (e) {
      fileStatus.classList.add('wall-error');
      fileStatus.textContent = e.message;
    } finally {
      uploading = false;
      file.value = '';
    }
  });

  form.addEventListener('submit', (e) => {
    e.preventDefault();
    for (const input of [text, link, image, column]) input.removeAttribute('aria-invalid');
    if (uploading) { error.textContent = "Patientez : l'image est en cours d'envoi."; return; }
    const values = { text: text.value.trim(), link: normalizeURL(link.value), image: normalizeURL(image.value), column: column.value.trim() };
    if (values.link === null) return fail(link, "Ce lien n'est pas une adresse web : écrivez par exemple https://www.onisep.fr/");
    if (values.image === null) return fail(image, "Cette image n'a pas une adresse web : écrivez par exemple https://…/image.png");
    if (current.columnRequired && !values.column) return fail(column, 'Donnez un nom à la nouvelle colonne.');
    if (!values.text && !values.link && !values.image) return fail(text, 'Écrivez un texte, ou ajoutez un lien ou une image.');
    const { onSave } = current;
    dialog.close();
    onSave(values);
  });

  dialog.addEventListener('close', () => {
    const done = current;
    current = null;
    done?.onClose?.();
  });

  return {
    element: dialog,
    // open shows the form: heading, initial values, the existing column
    // names, whether a column name is required, onSave(values) and
    // onClose() (to put the focus back).
    open(options) {
      current = options;
      const v = options.values || {};
      title.textContent = options.heading;
      text.value = v.text || '';
      link.value = v.link || '';
      image.value = v.image || '';
      column.value = v.column || '';
      column.required = !!options.columnRequired;
      // A new column is named first; a card's column comes last.
      if (options.columnRequired) form.insertBefore(columnField, textField);
      else form.insertBefore(columnField, columns);
      columnHint.textContent = options.columnRequired ? 'Le nom de la nouvelle colonne, par exemple « Questions ».'
        : 'Laissez vide pour placer la carte librement sur le tableau.';
      columns.replaceChildren(...options.columnNames.map((n) => el('option', { value: n })));
      error.textContent = '';
      fileStatus.textContent = '';
      for (const input of [text, link, image, column]) input.removeAttribute('aria-invalid');
      dialog.showModal();
      (options.columnRequired ? column : text).focus();
    },
  };
}

// ---- the editor ----

function mountWall(root) {
  const { ydoc, provider, awareness, readOnly, host } = connect(root);
  const cards = ydoc.getArray('cards');
  const prefix = 'wall-' + root.dataset.production;
  const dialog = readOnly ? null : cardDialog(prefix + '-form', root.dataset.api, root.dataset.csrf);

  // UI state, never shared except the selection (through awareness).
  const views = new WeakMap(); // card (Y.Map) → its view {li, body, people, names}
  const sections = new Map(); // column name → its view {section, list}
  let onScreen = new Map(); // keyOf(card) → card, for what is displayed now
  let selected = null; // the selected card
  let selectedIdentity = ''; // its identityOf, which a deleted Y.Map forgets
  let focusAfterRender = null; // a card to focus once rendered (a move re-creates it)
  let dragged = null; // the card being dragged
  let synced = false;
  let columnCount = 0;

  // ---- page structure ----
  const helpID = prefix + '-help';
  const live = el('p', { class: 'visually-hidden', 'aria-live': 'polite' });
  const empty = el('p', { class: 'wall-empty' }, 'Chargement du mur…');
  const columnsBox = el('div', { class: 'wall-columns' });
  const boardList = el('ul', { class: 'wall-board-list' });
  const board = el('div', { class: 'wall-board' }, boardList);
  const boardSection = el('section', { class: 'wall-board-section', 'aria-labelledby': prefix + '-board' },
    el('h3', { id: prefix + '-board' }, 'Cartes placées librement'), board);
  const selection = el('p', { class: 'wall-selection' });
  const moves = {
    previous: button('Colonne précédente', () => shiftColumn(selected, -1)),
    next: button('Colonne suivante', () => shiftColumn(selected, 1)),
    up: button('Monter', () => shiftInColumn(selected, -1)),
    down: button('Descendre', () => shiftInColumn(selected, 1)),
  };
  host.replaceChildren(
    el('h2', {}, 'Le mur'),
    readOnly ? el('p', { id: helpID, class: 'hint' }, 'Lecture seule : les modifications des autres participants apparaissent en direct.')
      : el('div', { class: 'wall-toolbar' },
        el('p', { class: 'wall-toolbar-row' },
          button('Ajouter une carte', (e) => addFrom(e.currentTarget, ''), { class: 'button primary' }),
          button('Nouvelle colonne', (e) => addFrom(e.currentTarget, '', true))),
        selection,
        el('div', { class: 'wall-toolbar-row', role: 'group', 'aria-label': 'Déplacer la carte sélectionnée' }, ...Object.values(moves)),
        el('p', { id: helpID, class: 'hint' }, 'Au clavier : la touche Tab sélectionne une carte ; dans une colonne, les flèches haut et bas ',
          "changent sa place et les flèches gauche et droite l'envoient dans la colonne voisine ; sur le tableau libre, les flèches la ",
          'déplacent (plus vite avec Maj). Entrée modifie la carte, Suppr la supprime.')),
    empty, columnsBox, boardSection, live);
  if (dialog) host.append(dialog.element);

  const announce = (message) => { live.textContent = message; };

  // ---- rendering ----

  function render() {
    const list = cards.toArray().filter(isCard);
    const active = document.activeElement;
    if (selected && !list.includes(selected)) {
      // Deleted, or moved by someone else: follow the copy if there is one.
      const copy = list.find((c) => identityOf(c) === selectedIdentity) || null;
      if (copy && views.get(selected)?.li.contains(active)) focusAfterRender = copy;
      select(copy);
    }
    const names = [];
    const byColumn = new Map();
    const free = [];
    for (const card of list) {
      const name = columnOf(card);
      if (!name) { free.push(card); continue; }
      if (!byColumn.has(name)) { byColumn.set(name, []); names.push(name); }
      byColumn.get(name).push(card);
    }

    syncChildren(columnsBox, names.map((name) => columnView(name, byColumn.get(name)).section));
    for (const name of sections.keys()) if (!byColumn.has(name)) sections.delete(name);
    columnsBox.hidden = names.length === 0;

    syncChildren(boardList, free.map((card) => cardView(card).li));
    boardSection.hidden = free.length === 0;
    sizeBoard();

    empty.hidden = list.length > 0;
    empty.textContent = !synced ? 'Chargement du mur…' : readOnly ? 'Le mur est vide pour le moment.' : 'Le mur est vide : ajoutez une première carte.';
    onScreen = new Map(list.map((card) => [keyOf(card), card]));
    showSelection();
    showPeople();

    if (focusAfterRender && views.has(focusAfterRender)) {
      views.get(focusAfterRender).li.focus();
      focusAfterRender = null;
    } else if (active && active !== document.activeElement && active.isConnected) {
      active.focus({ preventScroll: true });
    }
  }

  function columnView(name, members) {
    let view = sections.get(name);
    if (!view) {
      view = buildColumn(name);
      sections.set(name, view);
    }
    syncChildren(view.list, members.map((card) => cardView(card).li));
    return view;
  }

  function buildColumn(name) {
    const headingID = `${prefix}-column-${columnCount++}`;
    const list = el('ol', { class: 'wall-list' });
    const section = el('section', { class: 'wall-column', 'aria-labelledby': headingID }, el('h3', { id: headingID }, name), list);
    if (!readOnly) {
      section.append(button(['Ajouter une carte', el('span', { class: 'visually-hidden' }, ` dans « ${name} »`)],
        (e) => addFrom(e.currentTarget, name)));
      dropTarget(section, list, name);
    }
    return { section, list };
  }

  function cardView(card) {
    let view = views.get(card);
    if (!view) {
      view = buildCard(card);
      views.set(card, view);
    }
    fillCard(view, card);
    return view;
  }

  function buildCard(card) {
    const view = {
      body: el('div', { class: 'wall-card-body' }),
      people: el('p', { class: 'wall-card-people' }),
      names: [],
      signature: '',
    };
    view.li = el('li', { class: 'wall-card', tabindex: 0, 'aria-describedby': helpID }, view.body, view.people);
    view.li.addEventListener('focusin', () => select(card));
    if (!readOnly) {
      const named = (verb) => {
        const span = el('span', { class: 'visually-hidden' });
        view.names.push(span);
        return [verb, span];
      };
      view.li.append(el('p', { class: 'wall-card-actions' },
        button(named('Modifier'), (e) => edit(card, e.currentTarget)),
        button(named('Supprimer'), () => remove(card))));
      view.li.addEventListener('keydown', (e) => onCardKey(e, card));
      view.li.addEventListener('pointerdown', (e) => dragOnBoard(e, card, view.li));
      view.li.addEventListener('dragstart', (e) => {
        dragged = card;
        e.dataTransfer.effectAllowed = 'move';
        e.dataTransfer.setData('text/plain', textOf(card, 'text'));
        view.li.classList.add('wall-dragging');
      });
      view.li.addEventListener('dragend', () => {
        dragged = null;
        view.li.classList.remove('wall-dragging');
        for (const s of sections.values()) clearDrop(s.section);
      });
    }
    return view;
  }

  function fillCard(view, card) {
    const text = textOf(card, 'text');
    const link = textOf(card, 'link');
    const image = textOf(card, 'image');
    const signature = JSON.stringify([text, link, image]);
    if (view.signature !== signature) {
      view.signature = signature;
      view.body.replaceChildren(...cardContent(text, link, image));
      for (const span of view.names) span.textContent = ` la carte « ${nameOf(card)} »`;
    }
    const free = !columnOf(card);
    view.li.classList.toggle('wall-free', free);
    if (!readOnly) view.li.draggable = !free;
    if (!free) {
      view.li.style.left = view.li.style.top = '';
    } else if (dragged !== card) {
      place(view.li, numberOf(card, 'x'), numberOf(card, 'y'));
    }
  }

  function cardContent(text, link, image) {
    const out = [];
    if (text) out.push(el('p', { class: 'wall-card-text' }, text));
    const src = image && safeURL(image);
    if (src && src !== '#') {
      const img = el('img', { src, alt: text ? `Image de la carte « ${short(text)} »` : 'Image de la carte' });
      // The page's policy only loads images from Socle itself: say so
      // rather than leave a broken image, and keep the way to it.
      img.addEventListener('load', () => sizeBoard());
      img.addEventListener('error', () => img.replaceWith(el('p', { class: 'wall-card-link' }, 'Image non affichée : ',
        el('a', { href: src, target: '_blank', rel: 'noopener noreferrer' }, "voir l'image", el('span', { class: 'visually-hidden' }, ' (nouvel onglet)')))));
      out.push(img);
    }
    const href = link && safeURL(link);
    if (href && href !== '#') {
      out.push(el('p', { class: 'wall-card-link' },
        el('a', { href, target: '_blank', rel: 'noopener noreferrer' }, link, el('span', { class: 'visually-hidden' }, ' (nouvel onglet)'))));
    } else if (link) {
      out.push(el('p', { class: 'wall-card-link' }, link)); // shown, never followed
    }
    if (!out.length) out.push(el('p', { class: 'wall-card-text muted' }, 'Carte vide'));
    return out;
  }

  const place = (li, x, y) => { li.style.left = x + 'px'; li.style.top = y + 'px'; };

  // sizeBoard makes the board tall enough for its lowest card.
  function sizeBoard() {
    let bottom = 0;
    for (const li of boardList.children) bottom = Math.max(bottom, li.offsetTop + li.offsetHeight);
    board.style.height = bottom ? bottom + 32 + 'px' : '';
  }

  // ---- selection and presence ----

  function select(card) {
    if (selected === card) return;
    selected = card;
    selectedIdentity = card ? identityOf(card) : '';
    awareness.setLocalStateField('selection', card ? keyOf(card) : null);
    showSelection();
  }

  function showSelection() {
    for (const card of onScreen.values()) {
      const li = views.get(card).li;
      if (card === selected) li.setAttribute('aria-current', 'true');
      else li.removeAttribute('aria-current');
    }
    if (readOnly) return;
    const names = columnNames(cards);
    const column = selected ? columnOf(selected) : '';
    const members = column ? inColumn(cards, column) : [];
    const at = members.indexOf(selected);
    moves.previous.disabled = !column || names.indexOf(column) === 0;
    moves.next.disabled = !column || names.indexOf(column) === names.length - 1;
    moves.up.disabled = !column || at <= 0;
    moves.down.disabled = !column || at === members.length - 1;
    selection.textContent = !selected ? 'Aucune carte sélectionnée : cliquez sur une carte ou atteignez-la avec la touche Tab.'
      : `Carte sélectionnée : « ${nameOf(selected)} », ` +
        (column ? `colonne « ${column} », position ${at + 1} sur ${members.length}.` : 'placée librement sur le tableau.');
  }

  // showPeople outlines the card each other person has selected, in their
  // colour and with their name.
  function showPeople() {
    const byCard = new Map();
    for (const state of remoteStates(awareness)) {
      const card = state.selection && onScreen.get(state.selection);
      if (!card) continue;
      if (!byCard.has(card)) byCard.set(card, []);
      byCard.get(card).push(state.user);
    }
    for (const card of onScreen.values()) {
      const { li, people } = views.get(card);
      const users = byCard.get(card) || [];
      li.classList.toggle('wall-card-peer', users.length > 0);
      li.style.setProperty('--wall-peer', users.length ? users[0].color : '');
      people.replaceChildren(...users.map((u) => {
        const badge = el('span', { class: 'wall-person' }, el('span', { class: 'visually-hidden' }, 'Sélectionnée par '), u.name);
        badge.style.borderColor = u.color;
        return badge;
      }));
    }
  }

  // ---- changes ----

  function freeSlot() {
    const n = cards.toArray().filter((c) => isCard(c) && !columnOf(c)).length;
    return { x: 16 + (n % SLOT.perRow) * SLOT.width, y: 16 + Math.floor(n / SLOT.perRow) * SLOT.height };
  }

  // addFrom opens the form for a new card (in column, or free when
  // column is ""), from the button that asked.
  function addFrom(opener, column, newColumn = false) {
    let added = null;
    dialog.open({
      heading: newColumn ? 'Nouvelle colonne et sa première carte' : column ? `Nouvelle carte dans « ${column} »` : 'Nouvelle carte',
      values: { column },
      columnNames: columnNames(cards),
      columnRequired: newColumn,
      onSave(values) { added = addCard(values); },
      onClose() { (added && views.get(added)?.li || opener).focus(); },
    });
  }

  function addCard(values) {
    const { x, y } = values.column ? { x: 0, y: 0 } : freeSlot();
    const card = new Y.Map(Object.entries({ id: newID(ydoc), ...values, x, y }));
    ydoc.transact(() => cards.push([card]));
    announce(values.column ? `Carte ajoutée dans la colonne « ${values.column} ».` : 'Carte ajoutée sur le tableau.');
    return card;
  }

  function edit(card, opener) {
    const identity = identityOf(card); // a deleted Y.Map forgets its keys
    let saved = null;
    dialog.open({
      heading: `Modifier la carte « ${nameOf(card)} »`,
      values: { text: textOf(card, 'text'), link: textOf(card, 'link'), image: textOf(card, 'image'), column: columnOf(card) },
      columnNames: columnNames(cards),
      onSave(values) { saved = save(card, identity, values); },
      onClose() { (saved && views.get(saved)?.li?.isConnected ? views.get(saved).li : opener).focus(); },
    });
  }

  // save writes the form's values into the card; if someone moved it
  // meanwhile it follows the copy, if someone deleted it it comes back.
  function save(card, identity, values) {
    const target = cards.toArray().find((c) => isCard(c) && (c === card || identityOf(c) === identity));
    if (!target) {
      announce('Cette carte venait d’être supprimée par un autre participant : elle est recréée.');
      return addCard(values);
    }
    ydoc.transact(() => {
      if (values.column !== columnOf(target) && !values.column) {
        const { x, y } = freeSlot();
        target.set('x', x);
        target.set('y', y);
      }
      for (const [k, v] of Object.entries(values)) if (target.get(k) !== v) target.set(k, v);
    });
    announce('Carte enregistrée.');
    return target;
  }

  function remove(card) {
    if (!window.confirm(`Supprimer la carte « ${nameOf(card)} » ? Elle disparaîtra pour tous les participants.`)) return;
    const i = cards.toArray().indexOf(card);
    if (i >= 0) ydoc.transact(() => cards.delete(i, 1));
    announce('Carte supprimée.');
  }

  // moveCard puts card in column just before `before` (another card), or
  // last in the column when before is null. A Y.Array cannot move an
  // element, so the card is deleted and a copy inserted; the copy keeps
  // the card's identity (identityOf, removeDuplicates).
  function moveCard(card, column, before) {
    const all = cards.toArray();
    const from = all.indexOf(card);
    if (from < 0 || before === card) return;
    let to;
    if (before) {
      to = all.indexOf(before);
    } else {
      const last = lastIndex(all, (c) => c !== card && isCard(c) && columnOf(c) === column);
      to = last >= 0 ? last + 1 : all.length;
    }
    if (to < 0 || ((to === from || to === from + 1) && columnOf(card) === column)) return;
    // The selection and the focus follow the copy (see render).
    const copy = new Y.Map(Object.entries({ ...card.toJSON(), id: identityOf(card), column }));
    ydoc.transact(() => {
      cards.delete(from, 1);
      cards.insert(to > from ? to - 1 : to, [copy]);
    });
    const members = inColumn(cards, column);
    announce(`Carte « ${nameOf(copy)} » en position ${members.indexOf(copy) + 1} sur ${members.length} dans la colonne « ${column} ».`);
  }

  // shiftColumn sends the card to the previous (-1) or next (1) column,
  // in place in the array (no copy, so no conflict with other changes).
  function shiftColumn(card, delta) {
    if (!card || !columnOf(card)) return;
    const names = columnNames(cards);
    const target = names[names.indexOf(columnOf(card)) + delta];
    if (!target) return;
    ydoc.transact(() => card.set('column', target));
    announce(`Carte « ${nameOf(card)} » déplacée dans la colonne « ${target} ».`);
  }

  function shiftInColumn(card, delta) {
    if (!card || !columnOf(card)) return;
    const column = columnOf(card);
    const members = inColumn(cards, column);
    const at = members.indexOf(card);
    if (delta < 0 && at > 0) moveCard(card, column, members[at - 1]);
    if (delta > 0 && at >= 0 && at < members.length - 1) moveCard(card, column, members[at + 2] || null);
  }

  function setPosition(card, x, y) {
    ydoc.transact(() => {
      card.set('x', Math.max(0, Math.round(x)));
      card.set('y', Math.max(0, Math.round(y)));
    });
  }

  // removeDuplicates keeps the first of the copies two people made by
  // moving the same card at the same time (see moveCard).
  function removeDuplicates() {
    const seen = new Set();
    const extra = [];
    cards.toArray().forEach((c, i) => {
      const id = isCard(c) && textOf(c, 'id');
      if (!id) return;
      if (seen.has(id)) extra.push(i);
      else seen.add(id);
    });
    if (extra.length) ydoc.transact(() => { for (const i of extra.reverse()) cards.delete(i, 1); });
  }

  // ---- keyboard, pointer and drag and drop ----

  function onCardKey(e, card) {
    if (e.target !== e.currentTarget || e.altKey || e.ctrlKey || e.metaKey) return;
    const arrows = { ArrowLeft: [-1, 0], ArrowRight: [1, 0], ArrowUp: [0, -1], ArrowDown: [0, 1] };
    if (e.key === 'Enter') {
      edit(card, e.currentTarget);
    } else if (e.key === 'Delete') {
      remove(card);
    } else if (arrows[e.key]) {
      const [dx, dy] = arrows[e.key];
      if (!columnOf(card)) {
        const step = e.shiftKey ? STEP * 5 : STEP;
        setPosition(card, numberOf(card, 'x') + dx * step, numberOf(card, 'y') + dy * step);
      } else if (dx) {
        shiftColumn(card, dx);
      } else {
        shiftInColumn(card, dy);
      }
    } else {
      return;
    }
    e.preventDefault();
  }

  // dragOnBoard moves a free card with the pointer; the document gets the
  // new place when the pointer is released.
  function dragOnBoard(e, card, li) {
    if (columnOf(card) || e.button !== 0 || e.target.closest('a, button, input')) return;
    const start = { x: e.clientX, y: e.clientY, left: numberOf(card, 'x'), top: numberOf(card, 'y') };
    let moved = false;
    li.setPointerCapture(e.pointerId);
    const move = (ev) => {
      const dx = ev.clientX - start.x;
      const dy = ev.clientY - start.y;
      if (!moved && Math.hypot(dx, dy) < 4) return;
      moved = true;
      dragged = card;
      li.classList.add('wall-dragging');
      place(li, Math.max(0, start.left + dx), Math.max(0, start.top + dy));
    };
    const end = (ev) => {
      li.removeEventListener('pointermove', move);
      li.removeEventListener('pointerup', end);
      li.removeEventListener('pointercancel', end);
      li.classList.remove('wall-dragging');
      dragged = null;
      if (!moved) return;
      if (ev.type === 'pointerup') setPosition(card, start.left + ev.clientX - start.x, start.top + ev.clientY - start.y);
      else render(); // cancelled: back to the document's place
    };
    li.addEventListener('pointermove', move);
    li.addEventListener('pointerup', end);
    li.addEventListener('pointercancel', end);
  }

  // dropTarget lets a column receive a card dragged from any column, before
  // the card under the pointer.
  function dropTarget(section, list, name) {
    const beforeAt = (y) => [...list.children].find((li) => {
      if (li.classList.contains('wall-dragging')) return false;
      const r = li.getBoundingClientRect();
      return y < r.top + r.height / 2;
    });
    section.addEventListener('dragover', (e) => {
      if (!dragged) return;
      e.preventDefault();
      e.dataTransfer.dropEffect = 'move';
      clearDrop(section);
      section.classList.add('wall-drop');
      beforeAt(e.clientY)?.classList.add('wall-drop-before');
    });
    section.addEventListener('dragleave', (e) => { if (!section.contains(e.relatedTarget)) clearDrop(section); });
    section.addEventListener('drop', (e) => {
      if (!dragged) return;
      e.preventDefault();
      const li = beforeAt(e.clientY);
      const before = li ? cards.toArray().find((c) => isCard(c) && views.get(c)?.li === li) : null;
      const card = dragged;
      clearDrop(section);
      if (columnOf(card) !== name && !before) shiftColumnTo(card, name);
      else moveCard(card, name, before);
    });
  }

  // shiftColumnTo drops a card at the end of another column without a
  // copy when the array order already puts it there.
  function shiftColumnTo(card, name) {
    const all = cards.toArray();
    const last = lastIndex(all, (c) => isCard(c) && columnOf(c) === name);
    if (all.indexOf(card) > last) {
      ydoc.transact(() => card.set('column', name));
      announce(`Carte « ${nameOf(card)} » déplacée dans la colonne « ${name} ».`);
    } else {
      moveCard(card, name, null);
    }
  }

  function clearDrop(section) {
    section.classList.remove('wall-drop');
    section.querySelectorAll('.wall-drop-before').forEach((n) => n.classList.remove('wall-drop-before'));
  }

  // ---- the document ----

  // describe says in words what another person just changed.
  function describe(events) {
    for (const e of events) {
      if (e.target === cards) {
        const inserted = e.changes.delta.flatMap((d) => d.insert || []).filter(isCard);
        const deleted = e.changes.delta.reduce((n, d) => n + (d.delete || 0), 0);
        if (inserted.length && deleted) return `Carte « ${nameOf(inserted[0])} » déplacée par un autre participant.`;
        if (inserted.length === 1) return `Nouvelle carte d'un autre participant : « ${nameOf(inserted[0])} ».`;
        if (inserted.length) return `${inserted.length} nouvelles cartes d'autres participants.`;
        if (deleted) return deleted === 1 ? 'Une carte a été supprimée par un autre participant.' : `${deleted} cartes ont été supprimées par d'autres participants.`;
      } else if (isCard(e.target)) {
        const card = e.target;
        if (e.keysChanged.has('column')) {
          return columnOf(card) ? `Carte « ${nameOf(card)} » déplacée dans la colonne « ${columnOf(card)} » par un autre participant.`
            : `Carte « ${nameOf(card)} » placée sur le tableau par un autre participant.`;
        }
        if (['text', 'link', 'image'].some((k) => e.keysChanged.has(k))) return `Carte « ${nameOf(card)} » modifiée par un autre participant.`;
      }
    }
    return '';
  }

  cards.observeDeep((events, tx) => {
    if (!tx.local) {
      // The first sync brings the whole wall: nothing to announce then.
      const message = synced && describe(events);
      if (message) announce(message);
      if (!readOnly) removeDuplicates();
    }
    render();
  });
  awareness.on('change', showPeople);
  provider.on('sync', (isSynced) => {
    if (!isSynced || synced) return;
    synced = true;
    render();
  });
  render();
}

mountAll('wall', mountWall);
