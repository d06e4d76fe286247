// Socle's real-time timeline ("frise chronologique"), bound to the
// production's Y.Array "events" of Y.Map {start, end, title, text, image}
// (internal/ent/production/model.go). Three views of the same document,
// all rebuilt from it on observeDeep: a zoomable horizontal axis (points
// as markers, periods as bars, in lanes so they never overlap), the list
// of events in chronological order (the keyboard way in) and the card of
// the selected event; a form adds and edits events. What each person has
// selected travels through awareness ('selection') and shows in their
// colour with their name.
import { connect, mountAll, el, safeURL, remoteStates, Y } from './lib/common.js';

// ---- dates ----
//
// Stored dates are ISO-like strings read the way the server's TimelineJS
// export reads them (formats.go, toTJ): an optional minus sign, then year,
// month and day in digits: "-0052" is 52 av. J.-C., "0800-12-25",
// "1789-07", "1789". There is no year 0: -1 is 1 av. J.-C. and comes
// right before 1. Anything else (an imported "vers 1500") is kept as it
// is, listed, but cannot be placed on the axis.

const MONTHS = ['janvier', 'février', 'mars', 'avril', 'mai', 'juin', 'juillet', 'août', 'septembre', 'octobre', 'novembre', 'décembre'];
const MONTHS_SHORT = ['janv.', 'févr.', 'mars', 'avr.', 'mai', 'juin', 'juil.', 'août', 'sept.', 'oct.', 'nov.', 'déc.'];
const CUMULATIVE_DAYS = [0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334];

// The proleptic Gregorian calendar on astronomical years (1 av. J.-C. is 0).
const astronomical = (year) => (year > 0 ? year : year + 1);
const isLeap = (a) => (a % 4 === 0 && a % 100 !== 0) || a % 400 === 0;
const daysInYear = (a) => (isLeap(a) ? 366 : 365);
function daysInMonth(year, month) {
  if (month === 2) return isLeap(astronomical(year)) ? 29 : 28;
  return [4, 6, 9, 11].includes(month) ? 30 : 31;
}

/** A date {year, month, day}: month and day are 0 when not given. */
function makeDate(year, month, day) {
  if (!Number.isSafeInteger(year) || year === 0) return null;
  if (month < 0 || month > 12 || day < 0 || (day && !month) || day > (month ? daysInMonth(year, month) : 0)) return null;
  return { year, month, day };
}

/** parseISO reads a stored date; null when it is not one. */
function parseISO(s) {
  const m = /^(-?)(\d{1,9})(?:-(\d{1,2})(?:-(\d{1,2}))?)?$/.exec(String(s || '').trim());
  if (!m) return null;
  return makeDate(Number(m[2]) * (m[1] ? -1 : 1), Number(m[3] || 0), Number(m[4] || 0));
}

/** toISO writes a date the way the server and the demo do: "-0052", "0800-12-25". */
function toISO(d) {
  const pad = (n, w) => String(n).padStart(w, '0');
  let s = (d.year < 0 ? '-' : '') + pad(Math.abs(d.year), 4);
  if (d.month) s += '-' + pad(d.month, 2);
  if (d.day) s += '-' + pad(d.day, 2);
  return s;
}

/** yearLabel: "1789", "52 av. J.-C.". */
const yearLabel = (year) => (year < 0 ? `${-year} av. J.-C.` : String(year));

/** formatDate writes a date in French: "14 juillet 1789", "1er mai 800", "juillet 1789", "52 av. J.-C.". */
function formatDate(d) {
  if (!d.month) return yearLabel(d.year);
  const month = MONTHS[d.month - 1] + ' ' + yearLabel(d.year);
  if (!d.day) return month;
  return (d.day === 1 ? '1er' : String(d.day)) + ' ' + month;
}

/** The French way to type a date back in a form field: "14/07/1789", "07/1789", "52 av. J.-C.". */
function formatInput(d) {
  const pad = (n) => String(n).padStart(2, '0');
  return (d.day ? pad(d.day) + '/' : '') + (d.month ? pad(d.month) + '/' : '') + yearLabel(d.year);
}

/** A position on the axis, in (astronomical) years: where the date begins, or where it ends. */
function axisValue(d, atEnd) {
  const a = astronomical(d.year);
  if (!d.month) return a + (atEnd ? 1 : 0);
  const leap = isLeap(a) && d.month > 2 ? 1 : 0;
  let day = CUMULATIVE_DAYS[d.month - 1] + leap; // days before the 1st of the month
  if (d.day) day += d.day - 1 + (atEnd ? 1 : 0);
  else if (atEnd) day += daysInMonth(d.year, d.month);
  return a + day / daysInYear(a);
}

const DATE_HELP = 'Écrivez par exemple 1789, 07/1789, 14/07/1789, 14 juillet 1789 ou 52 av. J.-C.';

function foldAccents(s) {
  return s.normalize('NFD').replace(/[\u0300-\u036f]/g, '').toLowerCase();
}

/**
 * parseInput reads what a person typed in the form: ISO ("1789-07-14",
 * "-0052"), French numeric ("14/07/1789", "07/1789"), words ("1er mai
 * 1789") and years before our era ("52 av. J.-C.", "-52"). It returns
 * {date} or {error} (a French sentence).
 */
function parseInput(text) {
  let s = foldAccents(text.trim()).replace(/\s+/g, ' ');
  let bc = false;
  const era = /\s*(av\.?|avant)\s*j\.?\s*-?\s*c\.?$/.exec(s);
  if (era) {
    bc = true;
    s = s.slice(0, era.index);
  }
  // Month and day are null when not written (0 would be written and wrong).
  let year; let month = null; let day = null;
  let m;
  const num = (v) => (v === undefined ? null : Number(v));
  if ((m = /^(-?)(\d{1,9})(?:-(\d{1,2})(?:-(\d{1,2}))?)?$/.exec(s))) {
    year = Number(m[2]) * (m[1] ? -1 : 1);
    month = num(m[3]);
    day = num(m[4]);
  } else if ((m = /^(?:(\d{1,2})\/)?(\d{1,2})\/(-?\d{1,9})$/.exec(s))) {
    day = num(m[1]);
    month = Number(m[2]);
    year = Number(m[3]);
  } else if ((m = /^(?:(1er|\d{1,2}) )?([a-z.]+) (-?\d{1,9})$/.exec(s))) {
    const name = m[2].replace(/\.$/, '');
    month = MONTHS.findIndex((x, i) => foldAccents(x) === name || foldAccents(MONTHS_SHORT[i]).replace(/\.$/, '') === name) + 1;
    if (!month) return { error: `Mois non reconnu : « ${m[2]} ». ${DATE_HELP}` };
    day = m[1] === '1er' ? 1 : num(m[1]);
    year = Number(m[3]);
  } else {
    return { error: `Date non reconnue. ${DATE_HELP}` };
  }
  if (bc) {
    if (year < 0) return { error: `Écrivez soit « av. J.-C. », soit le signe moins, pas les deux. ${DATE_HELP}` };
    year = -year;
  }
  if (year === 0) return { error: "L'an 0 n'existe pas : l'année 1 av. J.-C. précède directement l'année 1." };
  if (month !== null && (month < 1 || month > 12)) return { error: 'Le mois doit être compris entre 1 et 12.' };
  const date = makeDate(year, month || 0, day || 0);
  if (!date || day === 0) return { error: `Le ${day} ${MONTHS[month - 1]} n'existe pas en ${yearLabel(year)}.` };
  return { date };
}

// ---- the document ----

const str = (v) => (typeof v === 'string' ? v : '');

/** newID names a new event (a key of our own: the server ignores it). */
const newID = () => 'ev-' + Date.now().toString(36) + '-' + Math.random().toString(36).slice(2, 8);

/**
 * readEvents reads the Y.Array into plain objects sorted in chronological
 * order (undated ones last). key identifies an event across browsers: its
 * "id", or its position for events written without one (the demo's).
 */
function readEvents(yevents) {
  const out = yevents.toArray().map((map, index) => {
    if (!(map && typeof map.get === 'function')) return null;
    const ev = {
      map, index,
      key: str(map.get('id')) || '@' + index,
      title: str(map.get('title')), startText: str(map.get('start')), endText: str(map.get('end')),
      text: str(map.get('text')), image: str(map.get('image')),
    };
    ev.start = parseISO(ev.startText);
    ev.end = parseISO(ev.endText);
    ev.t0 = ev.start ? axisValue(ev.start, false) : null;
    ev.t1 = ev.end ? Math.max(axisValue(ev.end, true), ev.t0 ?? -Infinity) : null;
    ev.period = ev.start !== null && ev.end !== null;
    return ev;
  }).filter(Boolean);
  const rank = (ev) => (ev.t0 === null ? Infinity : ev.t0);
  return out.sort((a, b) => rank(a) - rank(b) || (a.t1 ?? a.t0 ?? 0) - (b.t1 ?? b.t0 ?? 0)
    || a.title.localeCompare(b.title, 'fr') || a.index - b.index);
}

/** The dates of an event in French: "14 juillet 1789", "1096 – 1291". */
function datesOf(ev) {
  if (!ev.start) return ev.startText ? `date non reconnue : ${ev.startText}` : 'sans date';
  if (ev.endText && !ev.end) return `${formatDate(ev.start)} – date de fin non reconnue : ${ev.endText}`;
  return ev.end ? `${formatDate(ev.start)} – ${formatDate(ev.end)}` : formatDate(ev.start);
}

// ---- the axis ----

const LANE_PX = 40;
const RULER_PX = 44;
const MIN_TICK_PX = 90;
const LABEL_ROOM_PX = 200; // past the last date, room for its title
const MAX_PX_PER_YEAR = 4000; // about 11 px a day
const MAX_CANVAS_PX = 8e6; // well under the browsers' limits on an element's size
const YEAR_STEPS = [1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000, 2000, 5000, 10000, 20000, 50000, 100000, 1e6, 1e7, 1e8];

/** The span the axis covers: every dated event, with a margin on both sides. */
function spanOf(events) {
  const dated = events.filter((ev) => ev.t0 !== null);
  if (!dated.length) {
    const y = new Date().getFullYear();
    return [y - 10, y + 10];
  }
  const lo = Math.min(...dated.map((ev) => ev.t0));
  const hi = Math.max(...dated.map((ev) => ev.t1 ?? ev.t0));
  const margin = Math.max((hi - lo) * 0.05, 1);
  return [lo - margin, hi + margin];
}

/** The ticks between lo and hi for pxPerYear: [{value, label, major}], and the step's French name. */
function ticksFor(lo, hi, pxPerYear) {
  const monthSteps = [1, 3, 6].filter((m) => (m / 12) * pxPerYear >= MIN_TICK_PX);
  const ticks = [];
  if (monthSteps.length) {
    const step = monthSteps[0];
    for (let a = Math.floor(lo); a <= Math.ceil(hi); a++) {
      const year = a > 0 ? a : a - 1;
      for (let month = 1; month <= 12; month += step) {
        const value = axisValue({ year, month, day: 0 }, false);
        if (value < lo || value > hi) continue;
        // Every label names its year: January may be out of sight.
        ticks.push({ value, major: month === 1, label: `${MONTHS_SHORT[month - 1]} ${yearLabel(year)}` });
      }
    }
    return { ticks, name: step === 1 ? 'un repère par mois' : `un repère tous les ${step} mois` };
  }
  const step = YEAR_STEPS.find((s) => s * pxPerYear >= MIN_TICK_PX) || YEAR_STEPS[YEAR_STEPS.length - 1];
  // Ticks fall on round historical years on both sides of the era:
  // 100 av. J.-C., 100, 200… (the axis value of year -h is 1 - h).
  const first = Math.ceil(Math.max(1, lo) / step) * step;
  for (let h = first; h <= hi; h += step) ticks.push({ value: h, label: yearLabel(h), major: h % (step * 5) === 0 });
  for (let h = step; 1 - h >= lo; h += step) {
    if (1 - h <= hi) ticks.push({ value: 1 - h, label: yearLabel(-h), major: h % (step * 5) === 0 });
  }
  const name = step === 1 ? 'un repère par an' : step === 100 ? 'un repère par siècle' : step === 1000 ? 'un repère par millénaire'
    : `un repère tous les ${step.toLocaleString('fr-FR')} ans`;
  return { ticks, name };
}

/** Greedy lanes: each event takes the first lane where it overlaps nothing (its label included). */
function assignLanes(placed) {
  const ends = [];
  for (const p of placed) {
    let lane = ends.findIndex((end) => end + 8 <= p.x0);
    if (lane < 0) lane = ends.length;
    ends[lane] = p.x1;
    p.lane = lane;
  }
  return Math.max(1, ends.length);
}

// ---- the editor ----

mountAll('timeline', (root) => {
  const { ydoc, awareness, readOnly, host } = connect(root);
  const yevents = ydoc.getArray('events');
  const api = root.dataset.api || '';
  const csrf = root.dataset.csrf || '';
  const uid = 'tl-' + (root.dataset.production || '0');

  // UI state only: what is selected, zoom and scroll, the form.
  let events = [];
  let selected = null; // the selected event's Y.Map
  let confirmingDelete = false;
  let editing = null; // {map (null for a new event), before: values when the form opened, opener}
  let pxPerYear = 1;
  let fitted = true; // the axis shows everything until the person zooms
  let span = [0, 1];

  // ---- DOM ----
  const announcer = el('p', { class: 'visually-hidden', 'aria-live': 'polite', 'data-tl-announce': '' });
  const zoomIn = el('button', { type: 'button', 'aria-keyshortcuts': '+' }, 'Zoom avant');
  const zoomOut = el('button', { type: 'button', 'aria-keyshortcuts': '-' }, 'Zoom arrière');
  const zoomFit = el('button', { type: 'button' }, 'Tout voir');
  const earlier = el('button', { type: 'button' }, '← Plus tôt');
  const later = el('button', { type: 'button' }, 'Plus tard →');
  const scaleText = el('span', { class: 'tl-scale', 'aria-live': 'polite', 'data-tl-scale': '' });
  const toolbar = el('div', { class: 'tl-toolbar', role: 'toolbar', 'aria-label': 'Zoom et déplacement sur la frise' },
    zoomIn, zoomOut, zoomFit, earlier, later, scaleText);
  const ticksLayer = el('div', { class: 'tl-ticks', 'aria-hidden': 'true' });
  const eventsLayer = el('div', { class: 'tl-events' });
  const canvas = el('div', { class: 'tl-canvas' }, ticksLayer, eventsLayer);
  const viewport = el('div', {
    class: 'tl-viewport', tabindex: '0', role: 'region', 'aria-roledescription': 'frise',
    'aria-label': 'Frise chronologique : flèches pour se déplacer, + et - pour zoomer, Ctrl + molette pour zoomer à la souris',
  }, canvas);

  const listTitle = el('h2', { id: uid + '-list-title' }, 'Événements dans l\'ordre chronologique');
  const listHelp = el('p', { class: 'hint', id: uid + '-list-help' },
    readOnly ? 'Sélectionnez un événement pour afficher sa fiche.' : 'Espace ou clic : afficher la fiche ; Entrée : modifier l\'événement.');
  const list = el('ol', { class: 'tl-list', 'aria-labelledby': uid + '-list-title' });
  const addButton = el('button', { type: 'button', class: 'tl-add' }, 'Ajouter un événement');
  const card = el('section', { class: 'tl-card', 'aria-label': 'Fiche de l\'événement sélectionné' });
  const formArea = el('div', { class: 'tl-form-area' });

  host.replaceChildren(
    announcer,
    el('h2', { class: 'visually-hidden' }, 'Frise'),
    toolbar, viewport,
    el('div', { class: 'tl-columns' },
      el('div', { class: 'tl-list-area' }, listTitle, listHelp, readOnly ? null : addButton, list),
      el('div', { class: 'tl-side' }, card, formArea)),
  );

  // ---- selection and presence ----
  const keyOf = (map) => events.find((ev) => ev.map === map)?.key ?? null;

  function select(map, { focus } = {}) {
    if (map && !readOnly && !str(map.get('id'))) {
      // Older events carry no id; give one so that others see the same
      // selection even if the order changes meanwhile.
      ydoc.transact(() => map.set('id', newID()));
    }
    if (selected !== map) confirmingDelete = false;
    selected = map;
    render();
    if (focus) focusEvent(map, focus);
  }

  function focusEvent(map, where) {
    const key = keyOf(map);
    if (key === null) return;
    const target = host.querySelector(`[data-tl-role="${where}"][data-tl-key="${CSS.escape(key)}"]`);
    if (target) {
      target.focus();
      if (where === 'marker') target.scrollIntoView({ block: 'nearest', inline: 'center' });
    }
  }

  /** Who else has selected what: key → [user]. */
  function othersByKey() {
    const by = new Map();
    for (const s of remoteStates(awareness)) {
      if (typeof s.selection !== 'string' || !s.user) continue;
      if (!by.has(s.selection)) by.set(s.selection, []);
      by.get(s.selection).push(s.user);
    }
    return by;
  }

  /** Marks node with the people who selected its event: their colour and their names. */
  function showPresence(node, users) {
    if (!users || !users.length) return;
    node.classList.add('tl-remote');
    node.style.setProperty('--tl-remote', users[0].color);
    const tags = el('span', { class: 'tl-who' }, ...users.map((u) => {
      const tag = el('span', { class: 'tl-who-name' }, u.name);
      tag.style.backgroundColor = u.color;
      return tag;
    }));
    node.append(el('span', { class: 'visually-hidden' }, ', sélectionné par '), tags);
  }

  // ---- rendering ----

  function render() {
    const active = document.activeElement;
    const focusKey = host.contains(active) && active.dataset ? active.dataset.tlKey : undefined;
    const focusRole = focusKey !== undefined ? active.dataset.tlRole : null;
    // Through its Y.Map: the key changes when an old event gets its id.
    const focusMap = focusKey !== undefined ? events.find((ev) => ev.key === focusKey)?.map : null;

    events = readEvents(yevents);
    if (selected && !events.some((ev) => ev.map === selected)) selected = null;
    const mine = selected ? keyOf(selected) : null;
    if ((awareness.getLocalState() || {}).selection !== mine) awareness.setLocalStateField('selection', mine);
    const others = othersByKey();

    renderList(others);
    renderAxis(others);
    renderCard();

    if (focusKey !== undefined) {
      const key = (focusMap && keyOf(focusMap)) ?? focusKey;
      const again = host.querySelector(`[data-tl-role="${focusRole}"][data-tl-key="${CSS.escape(key)}"]`);
      if (again) again.focus({ preventScroll: true });
    }
  }

  function renderList(others) {
    list.replaceChildren(...events.map((ev) => {
      const item = el('button', {
        type: 'button', class: 'tl-item', 'data-tl-role': 'item', 'data-tl-key': ev.key,
        'aria-pressed': ev.map === selected ? 'true' : 'false', 'aria-describedby': uid + '-list-help',
        'aria-keyshortcuts': readOnly ? undefined : 'Enter',
      }, el('span', { class: 'tl-item-date' }, datesOf(ev)), ' ', el('span', { class: 'tl-item-title' }, ev.title || 'Sans titre'));
      if (ev.period) item.classList.add('tl-item-period');
      showPresence(item, others.get(ev.key));
      item.addEventListener('click', () => select(ev.map));
      item.addEventListener('keydown', (e) => {
        if (e.key !== 'Enter' || readOnly) return;
        e.preventDefault();
        openForm(ev.map, item);
      });
      return el('li', {}, item);
    }));
    if (!events.length) list.replaceChildren(el('li', { class: 'muted' }, 'Aucun événement pour l\'instant.'));
  }

  function renderAxis(others) {
    // What is at the left edge stays there when the span changes (an
    // earlier event added by someone else must not move the view).
    const leftEdge = span[0] + viewport.scrollLeft / pxPerYear;
    span = spanOf(events);
    const width = Math.max(viewport.clientWidth - LABEL_ROOM_PX, 160);
    const fit = width / (span[1] - span[0]);
    const max = Math.max(fit, Math.min(MAX_PX_PER_YEAR, MAX_CANVAS_PX / (span[1] - span[0])));
    pxPerYear = fitted ? fit : Math.min(max, Math.max(fit, pxPerYear));
    zoomIn.disabled = pxPerYear >= max * 0.999;
    zoomOut.disabled = zoomFit.disabled = pxPerYear <= fit * 1.001;
    canvas.style.width = Math.ceil((span[1] - span[0]) * pxPerYear) + LABEL_ROOM_PX + 'px';
    canvas.dataset.pxPerYear = pxPerYear.toPrecision(4);

    const x = (t) => (t - span[0]) * pxPerYear;
    const placed = events.filter((ev) => ev.t0 !== null).map((ev) => {
      const x0 = x(ev.t0);
      const bar = ev.period ? Math.max(x(ev.t1) - x0, 6) : 0;
      // Labels are at most 16rem wide (timeline.css); about 7.5 px a letter.
      const label = Math.min(256, 28 + 7.5 * (ev.title || 'Sans titre').length);
      return { ev, x0: ev.period ? x0 : x0 - 7, bar, x1: x0 + Math.max(bar, label) };
    });
    const lanes = assignLanes(placed);
    canvas.style.height = lanes * LANE_PX + RULER_PX + 'px';
    viewport.scrollLeft = fitted ? 0 : (leftEdge - span[0]) * pxPerYear;

    eventsLayer.replaceChildren(...placed.map(({ ev, x0, bar, lane }) => {
      const label = el('span', { class: 'tl-marker-label' }, ev.title || 'Sans titre');
      const marker = el('button', {
        type: 'button', class: ev.period ? 'tl-marker tl-bar' : 'tl-marker tl-point', 'data-tl-role': 'marker', 'data-tl-key': ev.key,
        'aria-pressed': ev.map === selected ? 'true' : 'false',
      }, ev.period ? el('span', { class: 'tl-bar-fill', 'aria-hidden': 'true' }) : el('span', { class: 'tl-dot', 'aria-hidden': 'true' }),
      label, el('span', { class: 'visually-hidden' }, ', ' + datesOf(ev)));
      marker.style.left = x0 + 'px';
      marker.style.top = lane * LANE_PX + 6 + 'px';
      if (ev.period) marker.style.minWidth = marker.firstChild.style.width = bar + 'px';
      showPresence(marker, others.get(ev.key));
      marker.addEventListener('click', () => select(ev.map));
      return marker;
    }));
    renderTicks();
  }

  // Only the ticks in sight (and a screen on each side) are in the DOM: at
  // a month per tick, twenty centuries would be tens of thousands.
  function renderTicks() {
    const view = viewport.clientWidth || 320;
    const lo = span[0] + Math.max(0, viewport.scrollLeft - view) / pxPerYear;
    const hi = span[0] + (viewport.scrollLeft + 2 * view) / pxPerYear;
    const end = span[1] + LABEL_ROOM_PX / pxPerYear;
    const { ticks, name } = ticksFor(Math.max(lo, span[0]), Math.min(hi, end), pxPerYear);
    ticksLayer.replaceChildren(...ticks.map((t) => {
      const tick = el('span', { class: t.major ? 'tl-tick tl-tick-major' : 'tl-tick' }, el('span', { class: 'tl-tick-label' }, t.label));
      tick.style.left = (t.value - span[0]) * pxPerYear + 'px';
      return tick;
    }));
    const text = `Échelle : ${name}.`;
    if (scaleText.textContent !== text) scaleText.textContent = text;
  }

  function renderCard() {
    const ev = events.find((e) => e.map === selected);
    if (!ev) {
      card.replaceChildren(el('p', { class: 'muted' }, 'Sélectionnez un événement sur la frise ou dans la liste pour afficher sa fiche.'));
      return;
    }
    const parts = [
      el('h3', {}, ev.title || 'Sans titre'),
      el('p', { class: 'tl-card-dates' }, datesOf(ev)),
    ];
    if (ev.text) parts.push(el('p', { class: 'keep-lines' }, ev.text));
    const src = ev.image ? safeURL(ev.image) : '#';
    if (src !== '#') {
      // The page's CSP only shows images of this site (img-src 'self'),
      // the production's medias among them: others are links.
      if (new URL(src).origin === window.location.origin) {
        parts.push(el('img', { class: 'tl-card-image', src, alt: `Illustration : ${ev.title || 'événement'}` }));
      } else {
        parts.push(el('p', {}, el('a', { href: src, target: '_blank', rel: 'noopener noreferrer' },
          'Voir l\'illustration (site externe, nouvel onglet)')));
      }
    }
    if (!readOnly) {
      // The buttons carry the event's key so that focus survives re-renders.
      const button = (role, text, cls) => el('button', { type: 'button', class: cls, 'data-tl-role': role, 'data-tl-key': ev.key }, text);
      if (confirmingDelete) {
        const yes = button('confirm-delete', 'Oui, supprimer', 'tl-danger');
        const no = button('keep', 'Non, garder');
        yes.addEventListener('click', () => removeEvent(ev.map));
        no.addEventListener('click', () => { confirmingDelete = false; render(); focusIn(card, 'button'); });
        parts.push(el('div', { class: 'tl-confirm', role: 'group', 'aria-label': 'Confirmer la suppression' },
          el('p', {}, `Supprimer « ${ev.title || 'Sans titre'} » pour tout le monde ?`), yes, no));
      } else {
        const edit = button('edit', 'Modifier');
        const del = button('delete', 'Supprimer', 'tl-danger');
        edit.addEventListener('click', () => openForm(ev.map, edit));
        del.addEventListener('click', () => { confirmingDelete = true; render(); focusIn(card, '.tl-confirm button'); });
        parts.push(el('div', { class: 'tl-card-actions' }, edit, del));
      }
    }
    card.replaceChildren(...parts);
  }

  const focusIn = (container, selector) => container.querySelector(selector)?.focus();

  // ---- zoom and pan ----

  /**
   * Zooms by factor around the axis position under clientX; without it,
   * around the selected event when it is in sight, else the middle.
   */
  function zoom(factor, clientX) {
    const box = viewport.getBoundingClientRect();
    let at = clientX === undefined ? viewport.clientWidth / 2 : clientX - box.left;
    const ev = clientX === undefined && events.find((e) => e.map === selected && e.t0 !== null);
    if (ev) {
      const x = (ev.t0 - span[0]) * pxPerYear - viewport.scrollLeft;
      if (x >= 0 && x <= viewport.clientWidth) at = x;
    }
    const t = span[0] + (viewport.scrollLeft + at) / pxPerYear;
    pxPerYear *= factor;
    fitted = false;
    render();
    viewport.scrollLeft = (t - span[0]) * pxPerYear - at;
    renderTicks();
  }

  zoomIn.addEventListener('click', () => zoom(2));
  zoomOut.addEventListener('click', () => zoom(0.5));
  zoomFit.addEventListener('click', () => { fitted = true; render(); });
  earlier.addEventListener('click', () => viewport.scrollBy({ left: -viewport.clientWidth * 0.8 }));
  later.addEventListener('click', () => viewport.scrollBy({ left: viewport.clientWidth * 0.8 }));
  viewport.addEventListener('keydown', (e) => {
    if (e.target !== viewport) return;
    if (e.key === '+' || e.key === '=') { e.preventDefault(); zoom(2); }
    if (e.key === '-') { e.preventDefault(); zoom(0.5); }
  });
  viewport.addEventListener('wheel', (e) => {
    if (!e.ctrlKey) return; // plain scrolling pans, natively
    e.preventDefault();
    zoom(Math.exp(-e.deltaY * 0.002), e.clientX);
  }, { passive: false });
  let ticking = false;
  viewport.addEventListener('scroll', () => {
    if (ticking) return;
    ticking = true;
    requestAnimationFrame(() => { ticking = false; renderTicks(); });
  });
  // Dragging the background with the mouse pans (touch scrolls natively).
  let drag = null;
  viewport.addEventListener('pointerdown', (e) => {
    if (e.pointerType !== 'mouse' || e.button !== 0 || e.target.closest('button')) return;
    drag = { x: e.clientX, left: viewport.scrollLeft };
    viewport.setPointerCapture(e.pointerId);
    viewport.classList.add('tl-dragging');
  });
  viewport.addEventListener('pointermove', (e) => {
    if (drag) viewport.scrollLeft = drag.left - (e.clientX - drag.x);
  });
  const endDrag = () => { drag = null; viewport.classList.remove('tl-dragging'); };
  viewport.addEventListener('pointerup', endDrag);
  viewport.addEventListener('pointercancel', endDrag);
  new ResizeObserver(() => render()).observe(viewport);

  // ---- the form ----

  function field(name, label, input, hint) {
    const id = `${uid}-${name}`;
    input.id = id;
    input.name = name;
    const error = el('p', { class: 'tl-error', id: id + '-error', hidden: true });
    const described = [hint ? id + '-hint' : null, id + '-error'].filter(Boolean).join(' ');
    input.setAttribute('aria-describedby', described);
    return {
      input, error,
      node: el('div', { class: 'tl-field' }, el('label', { for: id }, label),
        hint ? el('span', { class: 'hint', id: id + '-hint' }, hint) : null, input, error),
    };
  }

  function setError(f, message) {
    f.error.textContent = message || '';
    f.error.hidden = !message;
    if (message) f.input.setAttribute('aria-invalid', 'true');
    else f.input.removeAttribute('aria-invalid');
  }

  /** Sends an image to the production's media endpoint; resolves to its URL. */
  async function upload(file) {
    const body = new FormData();
    body.append('file', file);
    let res;
    try {
      res = await fetch(`${api}/media`, {
        method: 'POST', body, credentials: 'same-origin', headers: { 'X-CSRF-Token': csrf, Accept: 'application/json' },
      });
    } catch {
      throw new Error("L'image n'a pas pu être envoyée : vérifiez la connexion et réessayez.");
    }
    if (res.status === 404) throw new Error("L'envoi d'images n'est pas disponible sur ce serveur : indiquez plutôt l'adresse d'une image en ligne.");
    let answer = null;
    try { answer = await res.json(); } catch { /* not JSON */ }
    if (!res.ok) {
      const why = answer && (answer.detail || answer.title);
      throw new Error(why ? `Image refusée : ${why}` : `L'envoi de l'image a échoué (erreur ${res.status}).`);
    }
    if (!answer || typeof answer.url !== 'string') throw new Error("Le serveur n'a pas renvoyé l'adresse de l'image.");
    return answer.url;
  }

  function openForm(map, opener) {
    if (readOnly) return;
    const before = map ? {
      title: str(map.get('title')), start: str(map.get('start')), end: str(map.get('end')),
      text: str(map.get('text')), image: str(map.get('image')),
    } : { title: '', start: '', end: '', text: '', image: '' };
    editing = { map, before, opener };
    if (map) select(map);

    const asInput = (iso) => { const d = parseISO(iso); return d ? formatInput(d) : iso; };
    const title = field('title', 'Titre (obligatoire)', el('input', { type: 'text', maxlength: '200', autocomplete: 'off', value: before.title }));
    const start = field('start', 'Début (obligatoire)', el('input', { type: 'text', autocomplete: 'off', value: asInput(before.start) }), DATE_HELP);
    const end = field('end', 'Fin (pour une période)', el('input', { type: 'text', autocomplete: 'off', value: asInput(before.end) }),
      'Laissez vide pour un événement ponctuel.');
    const textArea = el('textarea', { rows: '4' });
    textArea.value = before.text;
    const text = field('text', 'Texte', textArea);
    const image = field('image', "Adresse de l'image", el('input', { type: 'text', inputmode: 'url', autocomplete: 'off', value: before.image }),
      'Une adresse https://… ou une image envoyée ci-dessous.');
    const fileInput = el('input', { type: 'file', accept: 'image/png,image/jpeg,image/gif,image/webp' });
    const file = field('file', 'Envoyer une image', fileInput);
    const uploadStatus = el('p', { class: 'tl-upload-status', role: 'status' });
    const save = el('button', { type: 'submit', class: 'tl-primary' }, map ? 'Enregistrer' : 'Ajouter');
    const cancel = el('button', { type: 'button' }, 'Annuler');
    const heading = el('h3', { id: uid + '-form-title' }, map ? 'Modifier l\'événement' : 'Nouvel événement');
    const form = el('form', { class: 'tl-form', novalidate: true, 'aria-labelledby': uid + '-form-title' },
      heading, title.node, start.node, end.node, text.node, image.node, file.node, uploadStatus,
      el('div', { class: 'tl-form-actions' }, save, cancel));

    fileInput.addEventListener('change', async () => {
      const f = fileInput.files && fileInput.files[0];
      if (!f) return;
      setError(file, '');
      uploadStatus.textContent = 'Envoi de l\'image…';
      save.disabled = true;
      try {
        image.input.value = await upload(f);
        uploadStatus.textContent = 'Image envoyée : son adresse est dans le champ « Adresse de l\'image ».';
      } catch (err) {
        uploadStatus.textContent = '';
        setError(file, err.message);
      } finally {
        save.disabled = false;
        fileInput.value = '';
      }
    });
    cancel.addEventListener('click', () => closeForm());
    form.addEventListener('keydown', (e) => { if (e.key === 'Escape') { e.preventDefault(); closeForm(); } });
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      const values = validate({ title, start, end, image });
      if (!values) return;
      values.text = textArea.value;
      const saved = saveEvent(values);
      if (saved) closeForm(saved);
    });

    formArea.replaceChildren(form);
    title.input.focus();
  }

  /** Checks the form; returns the values to store or null (errors shown, first wrong field focused). */
  function validate(f) {
    const values = { title: f.title.input.value.trim() };
    const errors = [];
    const check = (fieldOf, message) => { setError(fieldOf, message); if (message) errors.push(fieldOf); };
    check(f.title, values.title ? '' : 'Indiquez un titre.');
    const s = f.start.input.value.trim() ? parseInput(f.start.input.value) : { error: 'Indiquez la date de début.' };
    check(f.start, s.error);
    const e = f.end.input.value.trim() ? parseInput(f.end.input.value) : { date: null };
    check(f.end, e.error || (s.date && e.date && axisValue(e.date, true) <= axisValue(s.date, false)
      ? 'La fin ne peut pas précéder le début.' : ''));
    values.start = s.date ? toISO(s.date) : '';
    values.end = e.date ? toISO(e.date) : '';
    const img = f.image.input.value.trim();
    check(f.image, img && safeURL(img) === '#' ? "L'adresse de l'image doit commencer par https:// (ou être une image envoyée)." : '');
    values.image = img;
    if (errors.length) {
      errors[0].input.focus();
      return null;
    }
    return values;
  }

  /** Writes the form's values: a new event, or only what changed (someone may be editing the rest). */
  function saveEvent(values) {
    const { map, before } = editing;
    if (map && !yevents.toArray().includes(map)) {
      announce('Cet événement a été supprimé par quelqu\'un d\'autre entre-temps : il est ajouté de nouveau.');
    }
    let target = map && yevents.toArray().includes(map) ? map : null;
    ydoc.transact(() => {
      if (!target) {
        target = new Y.Map();
        target.set('id', newID());
        for (const k of ['start', 'end', 'title', 'text', 'image']) target.set(k, values[k]);
        yevents.push([target]);
        return;
      }
      for (const k of ['start', 'end', 'title', 'text', 'image']) {
        if (values[k] !== before[k] && values[k] !== str(target.get(k))) target.set(k, values[k]);
      }
    });
    return target;
  }

  function closeForm(saved) {
    const { opener, map } = editing || {};
    editing = null;
    formArea.replaceChildren();
    if (saved) {
      select(saved);
      focusEvent(saved, 'marker'); // brings it into sight on the axis…
      focusEvent(saved, 'item'); // …and leaves the focus in the list
    } else if (opener && opener.isConnected) opener.focus();
    else if (map && keyOf(map) !== null) focusEvent(map, 'item');
    else addButton.focus();
  }

  function removeEvent(map) {
    const i = yevents.toArray().indexOf(map);
    const ev = events.find((e) => e.map === map);
    const next = ev ? events[events.indexOf(ev) + 1] || events[events.indexOf(ev) - 1] : null;
    if (i >= 0) ydoc.transact(() => yevents.delete(i, 1));
    confirmingDelete = false;
    if (editing && editing.map === map) closeForm();
    announce(`Événement « ${ev ? ev.title : ''} » supprimé.`);
    if (next) select(next.map, { focus: 'item' });
    else {
      select(null);
      addButton.focus();
    }
  }

  addButton.addEventListener('click', () => openForm(null, addButton));

  // ---- live updates ----

  function announce(message) {
    announcer.textContent = '';
    // A new text node each time, so that the same sentence is read again.
    requestAnimationFrame(() => { announcer.textContent = message; });
  }

  // Giving an old event its id (select) is no news to anyone.
  const onlyIDs = (changes) => changes.every((c) => c.target !== yevents && [...c.keysChanged].every((k) => k === 'id'));

  yevents.observeDeep((changes, transaction) => {
    const count = events.length;
    render();
    if (transaction.local || onlyIDs(changes)) return;
    const diff = events.length - count;
    announce(diff > 0 ? `${diff === 1 ? 'Un événement ajouté' : `${diff} événements ajoutés`} par un autre participant.`
      : diff < 0 ? `${diff === -1 ? 'Un événement supprimé' : `${-diff} événements supprimés`} par un autre participant.`
        : 'Frise modifiée par un autre participant.');
  });
  awareness.on('change', ({ added, updated, removed }) => {
    const others = [...added, ...updated, ...removed].some((id) => id !== awareness.clientID);
    if (others) render();
  });
  render();
});
