// Differential test driver for socle/internal/ent/collab/yjs.
//
// Reads JSON requests, one per line, on stdin and answers one JSON line each
// on stdout, so that the Go test starts Node once for all sessions:
//
//   {"op":"session","seed":N}   random concurrent editing session with the real
//                               yjs: the updates every client emitted, a delivery
//                               order (shuffled, with duplicates), the converged
//                               content, state vector, Y.mergeUpdates of the
//                               updates, and a diff against an intermediate state.
//   {"op":"apply","updates":[base64...]}
//                               applies the updates in order to a fresh Y.Doc and
//                               returns its content and state vector.
//
// Content is returned in a canonical "dump" form that the Go test reproduces
// from its own document (see dumpType).
import * as Y from 'yjs'
import { createInterface } from 'node:readline'

const b64 = (u) => Buffer.from(u).toString('base64')
const unb64 = (s) => new Uint8Array(Buffer.from(s, 'base64'))

// mulberry32: small deterministic PRNG so that a seed replays a session.
function prng (seed) {
  let a = seed >>> 0
  const next = () => {
    a = (a + 0x6D2B79F5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
  const r = {
    next,
    int: (n) => Math.floor(next() * n),
    bool: (p = 0.5) => next() < p,
    pick: (arr) => arr[Math.floor(next() * arr.length)],
    shuffle: (arr) => {
      for (let i = arr.length - 1; i > 0; i--) {
        const j = Math.floor(next() * (i + 1))
        ;[arr[i], arr[j]] = [arr[j], arr[i]]
      }
      return arr
    }
  }
  return r
}

// ---------- canonical dump ----------

const sortObj = (o) => {
  if (Array.isArray(o)) return o.map(sortObj)
  if (o && typeof o === 'object' && !(o instanceof Uint8Array)) {
    const out = {}
    for (const k of Object.keys(o).sort()) out[k] = sortObj(o[k])
    return out
  }
  return o
}

function dumpValue (v) {
  if (v instanceof Y.AbstractType) return dumpType(v)
  if (v instanceof Uint8Array) return { bin: b64(v) }
  if (v instanceof Y.Doc) return { subdoc: v.guid }
  if (v === undefined) return { undef: true }
  return { v: sortObj(v) }
}

function dumpAttrs (attrs) {
  const out = {}
  for (const k of Object.keys(attrs).sort()) out[k] = dumpValue(attrs[k])
  return out
}

function dumpDelta (delta) {
  const out = []
  for (const op of delta) {
    const attrs = op.attributes ? sortObj(op.attributes) : {}
    if (typeof op.insert === 'string') {
      const last = out[out.length - 1]
      if (last && typeof last.insert === 'string' && JSON.stringify(last.attributes) === JSON.stringify(attrs)) {
        last.insert += op.insert
        continue
      }
      out.push({ insert: op.insert, attributes: attrs })
    } else {
      out.push({ insert: dumpValue(op.insert), attributes: attrs })
    }
  }
  return out
}

function dumpType (t) {
  if (t instanceof Y.XmlText) return { xmltext: dumpDelta(t.toDelta()), attrs: dumpAttrs(t.getAttributes()) }
  if (t instanceof Y.Text) return { text: dumpDelta(t.toDelta()), attrs: dumpAttrs(t.getAttributes()) }
  if (t instanceof Y.XmlElement) return { element: t.nodeName, attrs: dumpAttrs(t.getAttributes()), children: t.toArray().map(dumpValue) }
  if (t instanceof Y.XmlFragment) return { fragment: t.toArray().map(dumpValue) }
  if (t instanceof Y.XmlHook) return { hook: t.hookName, entries: dumpAttrs(Object.fromEntries(t.entries())) }
  if (t instanceof Y.Map) return { map: dumpAttrs(Object.fromEntries(t.entries())) }
  if (t instanceof Y.Array) return { array: t.toArray().map(dumpValue) }
  return { unknown: true }
}

// xmlString is yjs's toString for XML types, except that XmlText runs are
// taken from the merged delta (dumpDelta): yjs splits a run at every
// formatting marker, even a redundant one, and whether a redundant marker
// survives depends on local cleanups, not on the document's meaning.
function xmlString (t) {
  if (t instanceof Y.XmlText) {
    return dumpDelta(t.toDelta()).map(op => {
      const nested = Object.keys(op.attributes).sort().map(nodeName => {
        const attrs = []
        for (const key in op.attributes[nodeName]) attrs.push({ key, value: op.attributes[nodeName][key] })
        attrs.sort((a, b) => a.key < b.key ? -1 : 1)
        return { nodeName, attrs }
      })
      let str = ''
      for (const n of nested) str += `<${n.nodeName}` + n.attrs.map(a => ` ${a.key}="${a.value}"`).join('') + '>'
      str += typeof op.insert === 'string' ? op.insert : String(op.insert.v !== undefined ? op.insert.v : op.insert)
      for (let i = nested.length - 1; i >= 0; i--) str += `</${nested[i].nodeName}>`
      return str
    }).join('')
  }
  if (t instanceof Y.XmlElement) {
    const attrs = t.getAttributes()
    const keys = Object.keys(attrs).sort()
    const name = t.nodeName.toLocaleLowerCase()
    return `<${name}${keys.map(k => ` ${k}="${attrs[k]}"`).join('')}>${t.toArray().map(xmlString).join('')}</${name}>`
  }
  if (t instanceof Y.XmlFragment) return t.toArray().map(xmlString).join('')
  return String(t)
}

function dumpDoc (doc) {
  return {
    text: dumpType(doc.getText('text')),
    map: dumpType(doc.getMap('map')),
    array: dumpType(doc.getArray('array')),
    xml: dumpType(doc.getXmlFragment('xml')),
    strings: {
      text: doc.getText('text').toString(),
      xml: xmlString(doc.getXmlFragment('xml'))
    }
  }
}

const svObject = (doc) => {
  const out = {}
  for (const [c, clock] of Y.decodeStateVector(Y.encodeStateVector(doc))) out[c] = clock
  return out
}

// ---------- random edits ----------

const WORDS = ['a', 'bc', 'def', 'Socle ', 'école', ' ', '\n', 'x', '😀', 'ü', 'ab😀c', '日本']
const ATTRS = [
  { bold: true }, { italic: true }, { bold: null }, { italic: null },
  { color: '#f00' }, { color: '#0f0' }, { link: { href: 'https://e.fr' } }, { bold: true, italic: true },
  { header: 1 }, { size: 1.5 }
]

function randomPrimitive (r) {
  switch (r.int(9)) {
    case 0: return r.int(1000)
    case 1: return -r.int(1 << 30)
    case 2: return r.next() * 100
    case 3: return r.pick(WORDS)
    case 4: return r.bool()
    case 5: return null
    case 6: return { k: r.int(10), s: r.pick(WORDS), nested: [1, 'two', { three: 3 }] }
    case 7: return [r.int(5), r.pick(WORDS)]
    default: return 2 ** 40 + r.int(100)
  }
}

function randomValue (r, depth) {
  const k = r.int(10)
  if (depth < 2 && k === 0) {
    const m = new Y.Map()
    m.set('init', randomPrimitive(r))
    return m
  }
  if (depth < 2 && k === 1) {
    const a = new Y.Array()
    a.insert(0, [randomPrimitive(r), randomPrimitive(r)])
    return a
  }
  if (depth < 2 && k === 2) {
    const t = new Y.Text()
    t.insert(0, r.pick(WORDS))
    return t
  }
  if (k === 3) return new Uint8Array([r.int(256), r.int(256), 7])
  return randomPrimitive(r)
}

// Collects every live shared type of a document, to edit nested ones too.
function allTypes (doc) {
  const out = []
  const visit = (t, depth) => {
    out.push({ t, depth })
    if (t instanceof Y.XmlElement || t instanceof Y.XmlFragment) {
      t.toArray().forEach(c => visit(c, depth + 1))
    } else if (t instanceof Y.Map) {
      for (const v of t.values()) if (v instanceof Y.AbstractType) visit(v, depth + 1)
    } else if (t instanceof Y.Array) {
      t.toArray().forEach(v => { if (v instanceof Y.AbstractType) visit(v, depth + 1) })
    } else if (t instanceof Y.Text) {
      t.toDelta().forEach(op => { if (op.insert instanceof Y.AbstractType) visit(op.insert, depth + 1) })
    }
  }
  visit(doc.getText('text'), 0)
  visit(doc.getMap('map'), 0)
  visit(doc.getArray('array'), 0)
  visit(doc.getXmlFragment('xml'), 0)
  return out
}

// Positions never fall inside a surrogate pair: yjs itself does not converge
// when concurrent edits split one (it replaces halves with U+FFFD), and real
// editors never produce such positions.
function flatText (t) {
  return t.toDelta().map(op => typeof op.insert === 'string' ? op.insert : '\0').join('')
}
const isLowSurrogateAt = (s, i) => i > 0 && i < s.length && s.charCodeAt(i) >= 0xDC00 && s.charCodeAt(i) <= 0xDFFF
const fixPos = (s, i) => isLowSurrogateAt(s, i) ? i - 1 : i

function editText (r, t) {
  const s = flatText(t)
  const len = t.length
  const k = r.int(10)
  if (k < 4 || len === 0) {
    const pos = fixPos(s, r.int(len + 1))
    if (r.bool(0.4)) t.insert(pos, r.pick(WORDS), r.pick(ATTRS))
    else t.insert(pos, r.pick(WORDS))
  } else if (k < 7) {
    const pos = fixPos(s, r.int(len))
    const end = fixPos(s, Math.min(len, pos + 1 + r.int(4)))
    if (end > pos) t.delete(pos, end - pos)
  } else if (k < 9) {
    const pos = fixPos(s, r.int(len))
    const end = fixPos(s, pos + 1 + r.int(len - pos))
    if (end > pos) t.format(pos, end - pos, r.pick(ATTRS))
  } else {
    t.insertEmbed(fixPos(s, r.int(len + 1)), { image: 'img' + r.int(5) }, r.bool() ? { width: 10 } : undefined)
  }
}

function editMap (r, m, depth) {
  const keys = ['a', 'b', 'c', 'd', 'titre', 'clé']
  if (r.bool(0.75)) m.set(r.pick(keys), randomValue(r, depth))
  else m.delete(r.pick(keys))
}

function editArray (r, a, depth) {
  const len = a.length
  const k = r.int(10)
  if (k < 4 || len === 0) {
    const vals = []
    for (let i = 0, n = 1 + r.int(3); i < n; i++) vals.push(randomValue(r, depth))
    a.insert(r.int(len + 1), vals)
  } else if (k < 5) {
    a.push([randomValue(r, depth)])
  } else {
    const pos = r.int(len)
    a.delete(pos, 1 + r.int(Math.min(3, len - pos)))
  }
}

function editXml (r, x) {
  const len = x.length
  const k = r.int(10)
  if (k < 4 || len === 0) {
    const el = new Y.XmlElement(r.pick(['paragraph', 'heading', 'blockquote', 'Bullet_List']))
    el.setAttribute('level', String(1 + r.int(3)))
    const txt = new Y.XmlText()
    txt.insert(0, r.pick(WORDS), r.bool() ? { strong: {} } : undefined)
    el.insert(0, [txt])
    if (r.bool(0.2)) el.insert(1, [new Y.XmlElement('hard_break')])
    x.insert(r.int(len + 1), [el])
  } else if (k < 5) {
    const t = new Y.XmlText()
    t.insert(0, r.pick(WORDS))
    x.insert(r.int(len + 1), [t])
  } else if (k < 7 && x instanceof Y.XmlElement) {
    if (r.bool()) x.setAttribute(r.pick(['level', 'align', 'id']), r.pick(['left', 'center', '2', 'x']))
    else x.removeAttribute(r.pick(['level', 'align', 'id']))
  } else {
    const pos = r.int(len)
    x.delete(pos, 1 + r.int(Math.min(2, len - pos)))
  }
}

function randomEdit (r, doc) {
  const types = allTypes(doc)
  const { t, depth } = r.pick(types)
  if (t instanceof Y.XmlText) {
    if (r.bool(0.1)) t.setAttribute('data', r.int(10))
    else editText(r, t)
  } else if (t instanceof Y.Text) {
    editText(r, t)
  } else if (t instanceof Y.XmlElement || t instanceof Y.XmlFragment) {
    editXml(r, t)
  } else if (t instanceof Y.Map) {
    editMap(r, t, depth)
  } else if (t instanceof Y.Array) {
    editArray(r, t, depth)
  }
}

// ---------- sessions ----------

function session (seed) {
  const r = prng(seed * 7919 + 17)
  const nClients = 2 + r.int(3)
  const ids = new Set()
  while (ids.size < nClients) ids.add(1 + r.int(2 ** 31))
  const clients = [...ids].map(id => {
    const doc = new Y.Doc()
    doc.clientID = id
    return { doc, seen: new Set(), offline: false }
  })
  // log of every update a client produced locally (edits and the formatting
  // cleanups yjs performs after remote changes)
  const log = []
  const author = []
  clients.forEach((c, ci) => {
    c.doc.on('update', (u, origin) => {
      if (origin === 'remote') return
      c.seen.add(log.length)
      log.push(u)
      author.push(ci)
    })
  })
  const deliverable = (ci) => {
    const out = []
    for (let i = 0; i < log.length; i++) {
      if (!clients[ci].seen.has(i) && !clients[author[i]].offline) out.push(i)
    }
    return out
  }
  const deliver = (ci, idxs) => {
    for (const i of idxs) {
      clients[ci].seen.add(i)
      Y.applyUpdate(clients[ci].doc, log[i], 'remote')
      if (r.bool(0.05)) Y.applyUpdate(clients[ci].doc, log[i], 'remote') // twice
    }
  }
  // one client works offline for a while and is merged late
  if (r.bool(0.6)) clients[r.int(nClients)].offline = true
  const steps = 20 + r.int(40)
  let midState = null
  let midSV = null
  for (let s = 0; s < steps; s++) {
    const ci = r.int(nClients)
    const c = clients[ci]
    if (r.bool(0.2)) {
      c.doc.transact(() => {
        for (let i = 0, n = 2 + r.int(3); i < n; i++) randomEdit(r, c.doc)
      })
    } else {
      randomEdit(r, c.doc)
    }
    if (r.bool(0.35)) {
      const target = r.int(nClients)
      if (!clients[target].offline) {
        const avail = r.shuffle(deliverable(target))
        deliver(target, avail.slice(0, r.int(avail.length + 1)))
      }
    }
    if (s === steps >> 1) {
      midState = Y.encodeStateAsUpdate(clients[0].doc)
      midSV = Y.encodeStateVector(clients[0].doc)
    }
    if (s === Math.floor(steps * 0.75)) clients.forEach(c => { c.offline = false })
  }
  clients.forEach(c => { c.offline = false })
  // final sync until quiescent: cleanups may emit more updates
  for (let round = 0; round < 10; round++) {
    let any = false
    clients.forEach((c, ci) => {
      const avail = r.shuffle(deliverable(ci))
      if (avail.length) any = true
      deliver(ci, avail)
    })
    if (!any) break
  }
  const truth = dumpDoc(clients[0].doc)
  for (const c of clients) {
    if (JSON.stringify(dumpDoc(c.doc)) !== JSON.stringify(truth)) throw new Error(`seed ${seed}: yjs clients did not converge: ${JSON.stringify(truth)} vs ${JSON.stringify(dumpDoc(c.doc))}`)
  }
  // delivery order for the Go side: shuffled, some twice
  const order = r.shuffle([...log.keys()])
  for (let i = 0, n = r.int(Math.max(1, log.length >> 3)); i < n; i++) order.splice(r.int(order.length + 1), 0, r.int(log.length))
  const merged = Y.mergeUpdates(log)
  const diff = Y.diffUpdate(merged, midSV)
  // a second, smaller batch applied as one late offline merge: the first half
  // of the log merged into one update
  return {
    seed,
    clients: clients.map(c => c.doc.clientID),
    updates: log.map(b64),
    order,
    content: truth,
    sv: svObject(clients[0].doc),
    stateAsUpdate: b64(Y.encodeStateAsUpdate(clients[0].doc)),
    merged: b64(merged),
    midState: b64(midState),
    midSV: b64(midSV),
    diff: b64(diff)
  }
}

function apply (updates) {
  const doc = new Y.Doc()
  for (const u of updates) Y.applyUpdate(doc, unb64(u))
  return {
    content: dumpDoc(doc),
    sv: svObject(doc),
    pending: doc.store.pendingStructs !== null || doc.store.pendingDs !== null,
    stateAsUpdate: b64(Y.encodeStateAsUpdate(doc))
  }
}

const rl = createInterface({ input: process.stdin, crlfDelay: Infinity })
for await (const line of rl) {
  if (!line.trim()) continue
  let res
  try {
    const req = JSON.parse(line)
    switch (req.op) {
      case 'session': res = session(req.seed); break
      case 'apply': res = apply(req.updates); break
      default: throw new Error('unknown op ' + req.op)
    }
  } catch (e) {
    res = { error: String(e && e.stack ? e.stack : e) }
  }
  process.stdout.write(JSON.stringify(res) + '\n')
}
