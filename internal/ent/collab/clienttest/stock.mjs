// Stock yjs + y-websocket clients against Socle's sync server, driven by
// TestStockClients (stock_test.go). Two writers and one read-only member
// join a document: they must sync, see each other's edits and presence, and
// the reader's edit must be refused with the auth message.
//
// Usage: node stock.mjs SERVER_URL ROOM, tokens in COLLAB_TOKEN_A,
// COLLAB_TOKEN_B (writers) and COLLAB_TOKEN_R (reader). Prints one JSON
// line with the final texts; exits 1 on failure.
import * as Y from 'yjs'
import { WebsocketProvider } from 'y-websocket'
import WebSocket from 'ws'

const [serverUrl, room] = process.argv.slice(2)
const { COLLAB_TOKEN_A: tokenA, COLLAB_TOKEN_B: tokenB, COLLAB_TOKEN_R: tokenR } = process.env

// y-websocket reports the auth message with console.warn (and the URL,
// which holds the token: never printed).
const denied = []
console.warn = (...args) => {
  const s = args.join(' ')
  if (s.startsWith('Permission denied')) denied.push(s.slice(s.indexOf('\n') + 1))
}

const providers = []
function connect (token) {
  const doc = new Y.Doc()
  // disableBc: in one Node process the providers would otherwise sync
  // through a BroadcastChannel and bypass the server.
  const provider = new WebsocketProvider(serverUrl, room, doc, {
    WebSocketPolyfill: WebSocket,
    params: { token },
    disableBc: true
  })
  providers.push(provider)
  return { doc, provider, text: doc.getText('t') }
}

const sleep = ms => new Promise(resolve => setTimeout(resolve, ms))
async function waitFor (what, cond, ms = 10000) {
  const end = Date.now() + ms
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out waiting for ' + what)
    await sleep(20)
  }
}
const states = c => [...c.provider.awareness.getStates().entries()]

async function main () {
  const a = connect(tokenA)
  const b = connect(tokenB)
  await waitFor('writers synced', () => a.provider.synced && b.provider.synced)

  a.text.insert(0, 'Bonjour de A')
  await waitFor('B sees A', () => b.text.toString() === 'Bonjour de A')
  b.text.insert(b.text.length, ' et de B')
  await waitFor('A sees B', () => a.text.toString() === 'Bonjour de A et de B')

  a.provider.awareness.setLocalStateField('user', { name: 'Anne' })
  b.provider.awareness.setLocalStateField('cursor', { index: 3 })
  await waitFor('B sees A present', () => states(b).some(([id, s]) => id === a.doc.clientID && s.user?.name === 'Anne'))
  await waitFor('A sees B cursor', () => states(a).some(([id, s]) => id === b.doc.clientID && s.cursor?.index === 3))

  const r = connect(tokenR)
  await waitFor('reader synced', () => r.provider.synced && r.text.toString() === 'Bonjour de A et de B')
  await waitFor('reader sees presence', () => states(r).some(([id, s]) => id === a.doc.clientID && s.user?.name === 'Anne'))
  r.text.insert(0, 'PIRATE ')
  await waitFor('permission denied', () => denied.length > 0)
  // Let a wrongly relayed update arrive, if the server relayed it.
  a.text.insert(a.text.length, '.')
  await waitFor('B sees the last edit', () => b.text.toString().endsWith('.'))
  await sleep(200)

  // B drops its connection and comes back: A sees it leave, then return
  // well before the 15 s awareness renewal.
  b.provider.disconnect()
  await waitFor('B gone', () => !states(a).some(([id]) => id === b.doc.clientID))
  b.provider.connect()
  await waitFor('B back', () => states(a).some(([id, s]) => id === b.doc.clientID && s.cursor?.index === 3), 5000)

  // A leaves: the others see its presence removed.
  a.provider.destroy()
  await waitFor('A removed', () => !states(b).some(([id]) => id === a.doc.clientID))

  // A newcomer gets the document as the server has it.
  const c = connect(tokenB)
  await waitFor('newcomer synced', () => c.provider.synced && c.text.length > 0)
  console.log(JSON.stringify({ a: a.text.toString(), b: b.text.toString(), reader: r.text.toString(), newcomer: c.text.toString(), denied }))
}

main().then(() => {
  for (const p of providers) p.destroy()
  process.exit(0)
}, err => {
  console.log(JSON.stringify({ error: String(err && err.message) }))
  process.exit(1)
})
