// Rich text bound to a Y.XmlFragment (the pad's "content", each wiki
// page): ProseMirror with y-prosemirror, remote cursors and undo. The
// schema follows the server's layout (internal/ent/production/model.go):
// list items hold their text directly, heading levels are attributes,
// an image is an atom block whose attributes are its "src" and "alt".
import { ySyncPlugin, yCursorPlugin, yUndoPlugin, undo, redo } from 'y-prosemirror';
import { Schema } from 'prosemirror-model';
import { EditorState } from 'prosemirror-state';
import { EditorView } from 'prosemirror-view';
import { keymap } from 'prosemirror-keymap';
import { baseKeymap, toggleMark, setBlockType } from 'prosemirror-commands';
import { colours, safeURL, el } from './common.js';

// A link between wiki pages ("#page-<id>", as the server keeps it) stays
// as written; any other address goes through safeURL.
const pageLink = /^#page-[A-Za-z0-9_-]{1,64}$/;
function linkHref(href) { return pageLink.test(href) ? href : safeURL(href); }

export const schema = new Schema({
  nodes: {
    doc: { content: 'block+' },
    paragraph: { group: 'block', content: 'inline*', parseDOM: [{ tag: 'p' }], toDOM: () => ['p', 0] },
    heading: {
      group: 'block', content: 'inline*', defining: true, attrs: { level: { default: '1' } },
      parseDOM: [1, 2, 3, 4, 5, 6].map((l) => ({ tag: 'h' + l, attrs: { level: String(l) } })),
      toDOM: (n) => ['h' + Math.min(6, Math.max(1, Number(n.attrs.level) || 1)), 0],
    },
    bullet_list: { group: 'block', content: 'list_item+', parseDOM: [{ tag: 'ul' }], toDOM: () => ['ul', 0] },
    ordered_list: { group: 'block', content: 'list_item+', parseDOM: [{ tag: 'ol' }], toDOM: () => ['ol', 0] },
    list_item: { content: 'inline*', defining: true, parseDOM: [{ tag: 'li' }], toDOM: () => ['li', 0] },
    image: {
      group: 'block', atom: true, selectable: true, draggable: true,
      attrs: { src: { default: '' }, alt: { default: '' } },
      // Pasted images keep http(s) addresses only (never data: nor javascript:).
      parseDOM: [{
        tag: 'img[src]',
        getAttrs: (d) => (imageSrc(d.getAttribute('src')) ? { src: sitePath(d.getAttribute('src')), alt: d.getAttribute('alt') || '' } : false),
      }],
      toDOM: (n) => ['p', { class: 'pad-image' }, ['img', { src: imageSrc(n.attrs.src) || '', alt: n.attrs.alt || '' }]],
    },
    text: { group: 'inline' },
  },
  marks: {
    strong: { parseDOM: [{ tag: 'strong' }, { tag: 'b' }], toDOM: () => ['strong', 0] },
    em: { parseDOM: [{ tag: 'em' }, { tag: 'i' }], toDOM: () => ['em', 0] },
    link: {
      attrs: { href: {} }, inclusive: false,
      parseDOM: [{ tag: 'a[href]', getAttrs: (d) => ({ href: d.getAttribute('href') }) }],
      toDOM: (m) => ['a', { href: linkHref(m.attrs.href), rel: 'noopener noreferrer' }, 0],
    },
  },
});

// imageSrc is the address an image may be shown from: http(s) or this
// site (the production's medias), else ''.
export function imageSrc(src) {
  const u = safeURL(src || '');
  return u.startsWith('http:') || u.startsWith('https:') ? u : '';
}

// sitePath turns an address of this site back into a path, so that an
// image copied and pasted keeps the /productions/{id}/medias/... form the
// server recognises (and embeds in exports).
function sitePath(src) {
  try {
    const u = new URL(src, window.location.href);
    return u.origin === window.location.origin ? u.pathname + u.search : src;
  } catch { return src; }
}

// mediaUploader returns an upload(file) → URL for richEditor's options:
// it sends the file to the production's API (data-api of the editor's
// root) with the session's CSRF token, and throws the server's French
// message when the file is refused.
export function mediaUploader(api, csrf) {
  return async (file) => {
    const body = new FormData();
    body.append('file', file);
    const r = await fetch(`${api}/media`, {
      method: 'POST', body, credentials: 'same-origin', headers: { 'X-CSRF-Token': csrf || '' },
    });
    const data = await r.json().catch(() => ({}));
    if (!r.ok || !data.url) throw new Error(data.message || "L'envoi du fichier a échoué.");
    return data.url;
  };
}

// chooseFile opens the file chooser of a hidden input and resolves with
// the chosen file, or null.
function chooseFile(input) {
  return new Promise((resolve) => {
    const done = () => {
      input.removeEventListener('change', done);
      input.removeEventListener('cancel', done);
      const f = input.files && input.files[0];
      input.value = '';
      resolve(f || null);
    };
    input.addEventListener('change', done);
    input.addEventListener('cancel', done);
    input.click();
  });
}

// askImage asks for an image: an address, or (when upload is given) a
// file from the computer, sent with upload; then its text alternative.
// Resolves with {src, alt}, or null when cancelled.
async function askImage(upload, input, announce) {
  const hint = upload
    ? "Adresse de l'image (https://…), ou laissez vide et validez pour envoyer une image de votre ordinateur"
    : "Adresse de l'image (https://…)";
  const answer = window.prompt(hint, '');
  if (answer === null) return null;
  let src = answer.trim();
  if (!src) {
    if (!upload) return null;
    const file = await chooseFile(input);
    if (!file) return null;
    announce("Envoi de l'image en cours…");
    try {
      src = await upload(file);
    } catch (e) {
      announce(e.message);
      window.alert(e.message);
      return null;
    }
    announce('Image envoyée.');
  } else if (!imageSrc(src)) {
    window.alert("Adresse refusée : seules les images en http(s) ou envoyées ici sont acceptées.");
    return null;
  }
  const alt = window.prompt("Texte alternatif : décrivez l'image pour qui ne la voit pas (laissez vide si elle est décorative)", '');
  if (alt === null) return null;
  return { src, alt: alt.replace(/\s+/g, ' ').trim() };
}

// imageCommand inserts the image ask() resolves with at the selection.
export function imageCommand(ask) {
  return (state, dispatch, view) => {
    if (!dispatch) return true;
    ask().then((img) => {
      if (!img || !view || view.isDestroyed) return;
      const node = schema.nodes.image.create(img);
      view.dispatch(view.state.tr.replaceSelectionWith(node).scrollIntoView());
      view.focus();
    });
    return true;
  };
}

// Turns the current block into a one-item list, or a list back into
// paragraphs: enough for pupils, and valid for the server's layout.
function toggleList(listType) {
  return (state, dispatch) => {
    const { $from } = state.selection;
    const block = $from.parent;
    if (block.type === schema.nodes.list_item) {
      const list = $from.node($from.depth - 1);
      const start = $from.before($from.depth - 1);
      if (dispatch) {
        if (list.type !== listType) {
          dispatch(state.tr.setNodeMarkup(start, listType).scrollIntoView());
          return true;
        }
        const paras = [];
        list.forEach((li) => paras.push(schema.nodes.paragraph.create(null, li.content)));
        dispatch(state.tr.replaceWith(start, start + list.nodeSize, paras).scrollIntoView());
      }
      return true;
    }
    if (!block.isTextblock || $from.depth !== 1) return false;
    if (dispatch) {
      const start = $from.before(1);
      const list = listType.create(null, schema.nodes.list_item.create(null, block.content));
      dispatch(state.tr.replaceWith(start, start + block.nodeSize, list).scrollIntoView());
    }
    return true;
  };
}

// linkCommand asks for an address (askHref() returns it, or null) and
// toggles a link on the selection.
export function linkCommand(askHref) {
  return (state, dispatch) => {
    const mark = schema.marks.link;
    const { from, to, empty } = state.selection;
    if (state.doc.rangeHasMark(from, to, mark)) return toggleMark(mark)(state, dispatch);
    if (empty) return false;
    if (!dispatch) return true;
    const href = askHref();
    if (!href || safeURL(href) === '#') return false;
    return toggleMark(mark, { href })(state, dispatch);
  };
}

const promptLink = linkCommand(() => window.prompt('Adresse du lien (https://…)'));

// Remote cursors built with the CSSOM (the CSP forbids style attributes).
function cursorBuilder(user) {
  const label = el('span', { class: 'pad-cursor-name' }, user.name);
  label.style.backgroundColor = user.color;
  const cursor = el('span', { class: 'pad-cursor' }, label);
  cursor.style.borderColor = user.color;
  return cursor;
}
function selectionBuilder(user) {
  return { style: '', class: 'pad-selection pad-selection-' + colours.indexOf(user.color) };
}

// The toolbar's buttons: [command, label, shortcut].
export const toolbarButtons = [
  ['h1', 'Titre'], ['h2', 'Sous-titre'], ['paragraph', 'Paragraphe'],
  ['strong', 'Gras', 'Control+B'], ['em', 'Italique', 'Control+I'],
  ['bullet', 'Liste à puces'], ['ordered', 'Liste numérotée'], ['link', 'Lien', 'Control+K'], ['image', 'Image'],
  ['undo', 'Annuler', 'Control+Z'], ['redo', 'Rétablir', 'Control+Y'],
];

// buildToolbar makes a toolbar for richEditor's commands.
export function buildToolbar(label) {
  return el('div', { class: 'pad-toolbar', role: 'toolbar', 'aria-label': label || 'Mise en forme' },
    ...toolbarButtons.map(([cmd, text, keys]) => el('button', { type: 'button', 'data-command': cmd, 'aria-keyshortcuts': keys }, text)));
}

// richEditor mounts ProseMirror on host, bound to fragment. options:
// readOnly, label (the textbox's accessible name), toolbar (an element
// whose button[data-command] run the commands), askHref (link prompt),
// upload (async file → URL, see mediaUploader: the Image button then
// offers to send a file), askImage (async → {src, alt} or null, replaces
// the prompts), cursors (false to leave remote cursors out). Returns
// {view, destroy}.
export function richEditor(host, fragment, awareness, options = {}) {
  const m = schema.marks;
  const n = schema.nodes;
  const link = options.askHref ? linkCommand(options.askHref) : promptLink;
  // The file input and the live region of the Image button live next to
  // the editor (outside ProseMirror's DOM).
  const fileInput = el('input', {
    type: 'file', hidden: true, tabindex: '-1', 'aria-hidden': 'true', accept: 'image/png,image/jpeg,image/gif,image/webp',
  });
  const live = el('p', { class: 'visually-hidden pad-live', 'aria-live': 'polite' });
  host.after(fileInput, live);
  const announce = (msg) => { live.textContent = msg; };
  const image = imageCommand(options.askImage || (() => askImage(options.upload, fileInput, announce)));
  const plugins = [ySyncPlugin(fragment)];
  if (options.cursors !== false) plugins.push(yCursorPlugin(awareness, { cursorBuilder, selectionBuilder }));
  plugins.push(yUndoPlugin(),
    keymap({
      'Mod-z': undo, 'Mod-y': redo, 'Mod-Shift-z': redo,
      'Mod-b': toggleMark(m.strong), 'Mod-i': toggleMark(m.em), 'Mod-k': link,
    }),
    keymap(baseKeymap));
  const view = new EditorView(host, {
    state: EditorState.create({ schema, plugins }),
    editable: () => !options.readOnly,
    attributes: {
      role: 'textbox', 'aria-multiline': 'true', 'aria-label': options.label || 'Texte',
      'aria-readonly': options.readOnly ? 'true' : 'false', class: 'pad-editor',
    },
  });
  const commands = {
    strong: toggleMark(m.strong), em: toggleMark(m.em), link,
    h1: setBlockType(n.heading, { level: '1' }), h2: setBlockType(n.heading, { level: '2' }),
    paragraph: setBlockType(n.paragraph),
    bullet: toggleList(n.bullet_list), ordered: toggleList(n.ordered_list),
    image, undo, redo,
  };
  const onClick = (e) => {
    const b = e.target.closest('button[data-command]');
    if (!b) return;
    e.preventDefault();
    const cmd = commands[b.dataset.command];
    if (cmd) cmd(view.state, view.dispatch, view);
    view.focus();
  };
  const toolbar = options.toolbar;
  if (toolbar) {
    toolbar.hidden = !!options.readOnly;
    toolbar.addEventListener('click', onClick);
  }
  return {
    view,
    destroy() {
      if (toolbar) toolbar.removeEventListener('click', onClick);
      fileInput.remove();
      live.remove();
      view.destroy();
      // y-prosemirror 1.3.7 may still dispatch an awareness update queued
      // just before to the destroyed view (yjs/y-prosemirror#265,
      // "reading 'matchesNode'"): let it fall on nothing.
      view.dispatch = () => {};
    },
  };
}
