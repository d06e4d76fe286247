// Rich text bound to a Y.XmlFragment (the pad's "content", each wiki
// page): ProseMirror with y-prosemirror, remote cursors and undo. The
// schema follows the server's layout (internal/ent/production/model.go):
// list items hold their text directly, heading levels are attributes.
import { ySyncPlugin, yCursorPlugin, yUndoPlugin, undo, redo } from 'y-prosemirror';
import { Schema } from 'prosemirror-model';
import { EditorState } from 'prosemirror-state';
import { EditorView } from 'prosemirror-view';
import { keymap } from 'prosemirror-keymap';
import { baseKeymap, toggleMark, setBlockType } from 'prosemirror-commands';
import { colours, safeURL, el } from './common.js';

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
    text: { group: 'inline' },
  },
  marks: {
    strong: { parseDOM: [{ tag: 'strong' }, { tag: 'b' }], toDOM: () => ['strong', 0] },
    em: { parseDOM: [{ tag: 'em' }, { tag: 'i' }], toDOM: () => ['em', 0] },
    link: {
      attrs: { href: {} }, inclusive: false,
      parseDOM: [{ tag: 'a[href]', getAttrs: (d) => ({ href: d.getAttribute('href') }) }],
      toDOM: (m) => ['a', { href: safeURL(m.attrs.href), rel: 'noopener noreferrer' }, 0],
    },
  },
});

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
  ['bullet', 'Liste à puces'], ['ordered', 'Liste numérotée'], ['link', 'Lien', 'Control+K'],
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
// cursors (false to leave remote cursors out). Returns {view, destroy}.
export function richEditor(host, fragment, awareness, options = {}) {
  const m = schema.marks;
  const n = schema.nodes;
  const link = options.askHref ? linkCommand(options.askHref) : promptLink;
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
    undo, redo,
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
      view.destroy();
    },
  };
}
