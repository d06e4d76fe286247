// "30 pupils on one mind map": a class editing one production at once,
// each change measured until every other pupil has it (issue [6/8]:
// p99 < 100 ms on 2 cores).
//
// What it runs, all on this machine over loopback:
//   1. builds ./cmd/socle and ./internal/ent/collab/clienttest/classprep;
//   2. classprep creates the demo territory in a fresh data directory,
//      takes its mind map ("Carte mentale : le cycle de l'eau", shared with
//      the CM1 A and 6e A classes) and the first PUPILS pupils whom the
//      production's authorization hook lets edit it, and issues them API
//      tokens;
//   3. starts the real server, `socle serve --data DIR` (SQLite, every
//      change committed before it is broadcast);
//   4. forks WORKERS processes of stock yjs 13.6.33 + y-websocket 2.1.0
//      clients (mindmap-pupils.mjs, the Yjs code the browser runs), one per
//      pupil, connected to /collab/{production id} with ?token=;
//   5. runs the phases: "pace" (each pupil adds, renames, drops elsewhere,
//      recolours or folds a node every PACE_MIN_S–PACE_MAX_S s, for PACE_S
//      s after a WARMUP_S s warm-up) then "burst" (all pupils at once move a
//      node with an arrow key held down, BURST_RATE changes/s each, for
//      BURST_S s); after each
//      phase late deliveries still count: at least DRAIN_S s, then until
//      every copy holds every change (DRAIN_MAX_S at most);
//   6. checks that every pupil's copy converged and that the server's OPML
//      export of the production holds the same nodes.
//
// Latency of a change: from just before the sender's transaction to the
// moment the last of the other pupils has applied it (p50/p95/p99/max),
// and per delivery. Errors: deliveries that never arrived, closed
// connections, connection errors, permission denials. Server: CPU (% of
// one core over the phase, from /proc/PID/stat) and RSS (peak of VmRSS
// sampled every 200 ms). The machine's load average and the clients'
// event-loop delay tell whether the figures measure the server or a busy
// machine.
//
// Usage (from this folder, after `npm ci`): node mindmap-load.mjs
// Environment (all optional): PUPILS (30), WORKERS (2), PHASES
// ("pace,burst"), WARMUP_S (5), PACE_S (60), PACE_MIN_S (1), PACE_MAX_S
// (2), BURST_S (10), BURST_RATE (10), DRAIN_S (3), DRAIN_MAX_S (30), SEED
// (1); SOCLE_BIN and CLASSPREP_BIN (binaries already built, instead of go
// build); OUT (file for the raw JSON); NICE_SERVER / NICE_CLIENTS
// (scheduling priority of the server / the client processes, -20..19,
// negative as root only: on a shared machine, tells whose wait for a CPU
// the latency is).
// Prints a Markdown table, then one line "RESULT {json}".
import { fork, spawn, execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, writeFileSync, rmSync } from 'node:fs'
import { tmpdir, cpus, loadavg } from 'node:os'
import { join, dirname, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

const here = dirname(fileURLToPath(import.meta.url))
const root = resolve(here, '..', '..', '..', '..')
const env = process.env
const num = (k, d) => (env[k] !== undefined && env[k] !== '' ? Number(env[k]) : d)
const cfg = {
  pupils: num('PUPILS', 30),
  workers: num('WORKERS', 2),
  phases: (env.PHASES || 'pace,burst').split(','),
  warmupS: num('WARMUP_S', 5),
  paceS: num('PACE_S', 60),
  paceMinS: num('PACE_MIN_S', 1),
  paceMaxS: num('PACE_MAX_S', 2),
  burstS: num('BURST_S', 10),
  burstRate: num('BURST_RATE', 10),
  drainS: num('DRAIN_S', 3),
  drainMaxS: num('DRAIN_MAX_S', 30),
  seed: num('SEED', 1),
  niceServer: env.NICE_SERVER ? Number(env.NICE_SERVER) : null,
  niceClients: env.NICE_CLIENTS ? Number(env.NICE_CLIENTS) : null
}
const now = () => performance.timeOrigin + performance.now()
const sleep = ms => new Promise(resolve => setTimeout(resolve, ms))
const log = (...a) => console.error('#', ...a)

// build compiles the two programs, unless SOCLE_BIN / CLASSPREP_BIN name
// binaries already built.
function build (work) {
  const bins = {}
  for (const [name, pkg, given] of [['socle', './cmd/socle', env.SOCLE_BIN], ['classprep', './internal/ent/collab/clienttest/classprep', env.CLASSPREP_BIN]]) {
    bins[name] = given || join(work, name)
    if (given) continue
    log('go build ' + pkg)
    execFileSync('go', ['build', '-o', bins[name], pkg], { cwd: root, stdio: 'inherit' })
  }
  return bins
}

// The server gets a clean environment for its database: the data
// directory's SQLite, like the e2e tests.
const serverEnv = () => ({ ...env, SOCLE_DATABASE_URL: '' })

function prepare (bins, data, work) {
  const out = join(work, 'class.json')
  execFileSync(bins.classprep, ['--data', data, '--log-level', 'warn', '--pupils', String(cfg.pupils), '--out', out],
    { env: serverEnv(), stdio: ['ignore', 'inherit', 'inherit'] })
  return JSON.parse(readFileSync(out, 'utf8'))
}

// niced runs a program through nice(1) when a priority is asked for: the
// priority then holds for every thread the process starts (setpriority on
// a pid alone would miss Go's and V8's other threads). nice execs the
// program, so the pid is the program's.
function niced (prio, bin, args) {
  return prio === null ? [bin, args] : ['nice', ['-n', String(prio), bin, ...args]]
}

async function startServer (bin, data) {
  const [cmd, args] = niced(cfg.niceServer, bin, ['serve', '--data', data, '--addr', '127.0.0.1:0', '--log-level', 'warn'])
  const proc = spawn(cmd, args, { env: serverEnv(), stdio: ['ignore', 'pipe', 'inherit'] })
  const url = await new Promise((resolve, reject) => {
    let buf = ''
    const t = setTimeout(() => reject(new Error('socle did not start: ' + buf)), 60000)
    proc.stdout.on('data', d => {
      buf += d
      const m = /Socle écoute sur (http:\/\/\S+)/.exec(buf)
      if (m) { clearTimeout(t); resolve(m[1]) }
    })
    proc.on('exit', code => { clearTimeout(t); reject(new Error(`socle exited with ${code}: ${buf}`)) })
  })
  for (const end = Date.now() + 60000; ;) {
    try { if ((await fetch(url + '/readyz')).ok) break } catch {}
    if (Date.now() > end) throw new Error('socle never became ready')
    await sleep(100)
  }
  return { proc, url }
}

async function stopServer (proc) {
  if (proc.exitCode !== null) return
  const exited = new Promise(resolve => proc.once('exit', resolve))
  proc.kill('SIGTERM')
  const t = setTimeout(() => proc.kill('SIGKILL'), 10000)
  await exited
  clearTimeout(t)
}

const rssKB = pid => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0)
const hwmKB = pid => Number(/VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0)
function cpuTicks (pid) {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ')
  return Number(f[11]) + Number(f[12]) // utime + stime, in USER_HZ (100/s)
}
// machineBusy is the machine's busy and total jiffies, all CPUs.
function machineBusy () {
  const f = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number)
  const idle = f[3] + f[4]
  const total = f.reduce((a, b) => a + b, 0)
  return { busy: total - idle, total }
}

function pct (sorted, p) {
  if (!sorted.length) return NaN
  return sorted[Math.min(sorted.length - 1, Math.ceil(sorted.length * p) - 1)]
}

// join matches every measured change with the moment each other pupil
// held it: the first remote transaction after which that pupil's copy had
// the sender's clock.
function joinPhase (name, from, to, reps, clientOf, n) {
  // seen[receiver][client] = [[clock, time], ...] in arrival order (both grow).
  const seen = Array.from({ length: n }, () => new Map())
  for (const r of reps) {
    for (const [rx, client, clock, t] of r.received) {
      let l = seen[rx].get(client)
      if (!l) seen[rx].set(client, (l = []))
      l.push([clock, t])
    }
  }
  const firstAt = (list, clock) => {
    if (!list) return NaN
    let lo = 0; let hi = list.length
    while (lo < hi) {
      const mid = (lo + hi) >> 1
      if (list[mid][0] >= clock) hi = mid
      else lo = mid + 1
    }
    return lo < list.length ? list[lo][1] : NaN
  }
  const all = []; const each = []; const actions = {}; const slow = []
  let changes = 0; let missing = 0
  for (const r of reps) {
    for (const [phase, client, clock, t, action] of r.sent) {
      if (phase !== name || t < from || t > to) continue
      changes++
      actions[action] = (actions[action] || 0) + 1
      const sender = clientOf.get(client)
      let last = 0
      for (let rx = 0; rx < n; rx++) {
        if (rx === sender) continue
        const at = firstAt(seen[rx].get(client), clock)
        if (Number.isNaN(at)) { missing++; last = NaN; continue }
        each.push(at - t)
        if (!Number.isNaN(last)) last = Math.max(last, at - t)
      }
      if (!Number.isNaN(last)) {
        all.push(last)
        slow.push([last, (t - from) / 1000, action])
      }
    }
  }
  const sa = Float64Array.from(all).sort()
  const se = Float64Array.from(each).sort()
  return {
    changes,
    changesPerS: changes / ((to - from) / 1000),
    actions,
    deliveries: each.length,
    missingDeliveries: missing,
    allOthers: { p50: pct(sa, 0.5), p95: pct(sa, 0.95), p99: pct(sa, 0.99), max: sa[sa.length - 1] },
    perDelivery: { p50: pct(se, 0.5), p99: pct(se, 0.99), max: se[se.length - 1] },
    // When the slowest changes were sent (s into the counted window): a
    // cluster points at a stall of the machine or of the server.
    slowest: slow.sort((a, b) => b[0] - a[0]).slice(0, 12).map(([ms, atS, action]) => ({ ms: Math.round(ms), atS: Math.round(atS * 10) / 10, action }))
  }
}

function unescapeXML (s) {
  return s.replace(/&(lt|gt|quot|apos|amp|#(\d+)|#x([0-9a-f]+));/gi, (m, name, dec, hex) =>
    dec ? String.fromCodePoint(Number(dec)) : hex ? String.fromCodePoint(parseInt(hex, 16))
      : { lt: '<', gt: '>', quot: '"', apos: "'", amp: '&' }[name.toLowerCase()])
}

async function main () {
  const work = mkdtempSync(join(tmpdir(), 'mindmap-load-'))
  const data = join(work, 'data')
  let server = null
  const workers = []
  try {
    const bins = build(work)
    const cls = prepare(bins, data, work)
    server = await startServer(bins.socle, data)
    const pid = server.proc.pid
    // serve starts its hourly housekeeping (sessions, people, indicators)
    // at once: wait until the server is idle before the class arrives.
    const settled = now()
    for (let idle = 0, t = cpuTicks(pid); idle < 2 && now() - settled < 30000;) {
      await sleep(500)
      const t1 = cpuTicks(pid)
      idle = t1 - t < 5 ? idle + 1 : 0
      t = t1
    }
    const wsURL = server.url.replace(/^http/, 'ws') + '/collab'
    log(`socle ${server.url} (pid ${pid}), idle after ${((now() - settled) / 1000).toFixed(1)} s; production ${cls.production} « ${cls.title} »; ${cls.pupils.length} pupils, ${cfg.workers} client processes`)

    for (let w = 0; w < cfg.workers; w++) {
      const mine = cls.pupils.map((p, idx) => ({ idx, name: p.name, token: p.token })).filter(p => p.idx % cfg.workers === w)
      const [execPath, execArgv] = niced(cfg.niceClients, process.execPath, [])
      const child = fork(join(here, 'mindmap-pupils.mjs'), [], { execPath, execArgv, stdio: ['ignore', 'inherit', 'inherit', 'ipc'], serialization: 'advanced' })
      workers.push(child)
      child.mine = mine
    }
    const ask = (child, msg, type) => new Promise((resolve, reject) => {
      const exit = code => reject(new Error(`client process exited with ${code}`))
      const on = m => {
        if (m.type !== type) return
        child.off('message', on)
        child.off('exit', exit)
        resolve(m)
      }
      child.on('message', on)
      child.once('exit', exit)
      child.send(msg)
    })

    const rss0 = rssKB(pid)
    const t0 = now()
    const ready = await Promise.all(workers.map(c => ask(c, { type: 'init', url: wsURL, room: String(cls.production), seed: cfg.seed, pupils: c.mine }, 'ready')))
    const connectMs = now() - t0
    const synced = ready.reduce((a, r) => a + r.synced, 0)
    const clientOf = new Map(ready.flatMap(r => r.clients.map(([idx, client]) => [client, idx])))
    log(`${synced}/${cls.pupils.length} pupils synced in ${connectMs.toFixed(0)} ms; the map has ${ready[0].nodes} nodes`)
    if (synced !== cls.pupils.length) throw new Error('not every pupil synced')

    const phases = []
    for (const name of cfg.phases) {
      const burst = name === 'burst'
      const start = now() + 200
      const lengthS = burst ? cfg.burstS : cfg.warmupS + cfg.paceS
      const until = start + lengthS * 1000
      const from = burst ? start : start + cfg.warmupS * 1000
      const msg = { type: 'phase', name, mode: burst ? 'burst' : 'pace', start, from, until, rate: cfg.burstRate, minS: cfg.paceMinS, maxS: cfg.paceMaxS }
      log(`${name}: ${burst ? `${cfg.burstRate} changes/s per pupil for ${cfg.burstS} s` : `a change every ${cfg.paceMinS}–${cfg.paceMaxS} s per pupil, ${cfg.warmupS} s warm-up + ${cfg.paceS} s`}, load average ${loadavg()[0].toFixed(2)}`)
      const load0 = loadavg()[0]
      let peak = rssKB(pid)
      const sampler = setInterval(() => { peak = Math.max(peak, rssKB(pid)) }, 200)
      const finished = Promise.all(workers.map(c => ask(c, msg, 'phaseDone')))
      await sleep(Math.max(0, from - now()))
      // Server, clients and machine are measured over the counted window.
      const clientTicks = () => workers.reduce((a, c) => a + cpuTicks(c.pid), 0)
      const cpu0 = cpuTicks(pid); const cl0 = clientTicks(); const m0 = machineBusy(); const w0 = now()
      const done = await finished
      const cpuS = (cpuTicks(pid) - cpu0) / 100; const clS = (clientTicks() - cl0) / 100
      const m1 = machineBusy(); const secs = (now() - w0) / 1000
      // Late deliveries still count: wait until every copy holds every
      // change (same state vector everywhere), DRAIN_MAX_S at most.
      const drained = now()
      await sleep(cfg.drainS * 1000)
      while (now() - drained < cfg.drainMaxS * 1000) {
        const states = await Promise.all(workers.map(c => ask(c, { type: 'state' }, 'state')))
        if (new Set(states.flatMap(st => st.vectors)).size === 1) break
        await sleep(200)
      }
      clearInterval(sampler)
      phases.push({
        name,
        from,
        to: until,
        serverCPU: 100 * cpuS / secs,
        serverRSSPeakMiB: Math.max(peak, rssKB(pid)) / 1024,
        machineBusy: 100 * (m1.busy - m0.busy) / (m1.total - m0.total),
        clientCPU: 100 * clS / secs,
        loadAvg: [load0, loadavg()[0]],
        clientLoopP99: Math.max(...done.map(d => d.loopP99)),
        clientLoopMax: Math.max(...done.map(d => d.loopMax))
      })
    }

    const reps = await Promise.all(workers.map(c => ask(c, { type: 'report' }, 'report')))
    const digests = new Set(reps.flatMap(r => r.digests))
    const nodes = JSON.parse([...digests][0]).length
    // The server's own view: the OPML export written from its document.
    const res = await fetch(`${server.url}/api/v1/productions/${cls.production}/export?format=opml`, { headers: { Authorization: 'Bearer ' + cls.pupils[0].token } })
    const opml = res.ok ? await res.text() : ''
    const serverNodes = (opml.match(/<outline[\s>]/g) || []).length
    const texts = [...opml.matchAll(/text="([^"]*)"/g)].map(m => unescapeXML(m[1]))
    const sample = reps[0].sample.filter(t => typeof t === 'string')
    const result = {
      when: new Date().toISOString(),
      machine: `${cpus().length} CPUs (${cpus()[0]?.model ?? '?'}), Node ${process.version}`,
      config: cfg,
      production: cls.production,
      pupils: cls.pupils.length,
      connectMs,
      serverRSSStartMiB: rss0 / 1024,
      serverRSSHighWaterMiB: hwmKB(pid) / 1024,
      errors: {
        closes: reps.reduce((a, r) => a + r.closes, 0),
        connectionErrors: reps.reduce((a, r) => a + r.connErrors, 0),
        denied: reps.reduce((a, r) => a + r.denied, 0)
      },
      converged: digests.size === 1,
      nodes,
      serverExport: { status: res.status, nodes: serverNodes, sampleFound: sample.every(t => texts.includes(t)) },
      phases: phases.map(ph => ({ ...ph, ...joinPhase(ph.name, ph.from, ph.to, reps, clientOf, cls.pupils.length) }))
    }
    await Promise.all(workers.map(c => new Promise(resolve => { c.once('exit', resolve); c.send({ type: 'close' }) })))
    report(result)
    if (env.OUT) writeFileSync(env.OUT, JSON.stringify(result, null, 2) + '\n')
    const ok = result.converged && serverNodes === nodes && result.serverExport.sampleFound &&
      result.phases.every(ph => ph.missingDeliveries === 0) && result.errors.closes === 0 && result.errors.denied === 0
    if (!ok) process.exitCode = 1
  } finally {
    for (const c of workers) if (c.exitCode === null) c.kill()
    if (server) await stopServer(server.proc)
    rmSync(work, { recursive: true, force: true })
  }
}

const f1 = x => (Number.isFinite(x) ? x.toFixed(1) : 'n/a')
const f0 = x => (Number.isFinite(x) ? Math.round(x).toLocaleString('en-US') : 'n/a')

function report (r) {
  const lines = [
    `Mind map load, ${r.when}: ${r.pupils} pupils on production ${r.production}, ${r.machine}, ${r.config.workers} client processes; ` +
      `connected and synced in ${f0(r.connectMs)} ms; ${r.nodes} nodes at the end; copies converged: ${r.converged ? 'yes' : 'NO'}; ` +
      `server export: ${r.serverExport.nodes} nodes${r.serverExport.sampleFound ? '' : ' (recent texts MISSING)'}.`,
    `Errors: ${r.errors.closes} connections closed, ${r.errors.connectionErrors} connection errors, ${r.errors.denied} permission denials. ` +
      `Server RSS ${f1(r.serverRSSStartMiB)} MiB at the start, high-water mark ${f1(r.serverRSSHighWaterMiB)} MiB.`,
    '',
    '| phase | changes (/s) | all others have it p50 / p95 / p99 / max ms | per delivery p50 / p99 ms | undelivered | server CPU | server RSS peak MiB | machine busy | clients CPU | client loop p99 / max ms | load avg |',
    '|---|---|---|---|---|---|---|---|---|---|---|'
  ]
  for (const p of r.phases) {
    const a = p.allOthers; const d = p.perDelivery
    lines.push(`| ${p.name} | ${p.changes} (${f1(p.changesPerS)}) | ${f1(a.p50)} / ${f1(a.p95)} / ${f1(a.p99)} / ${f1(a.max)} | ${f1(d.p50)} / ${f1(d.p99)} | ` +
      `${p.missingDeliveries} of ${p.deliveries + p.missingDeliveries} | ${f1(p.serverCPU)} % | ${f1(p.serverRSSPeakMiB)} | ${f0(p.machineBusy)} % | ` +
      `${f0(p.clientCPU)} % | ${f1(p.clientLoopP99)} / ${f1(p.clientLoopMax)} | ${p.loadAvg.map(x => x.toFixed(2)).join(' → ')} |`)
  }
  lines.push('')
  for (const p of r.phases) lines.push(`Slowest ${p.name} changes (ms @ s into the window): ${p.slowest.map(x => `${x.ms} @ ${x.atS}`).join(', ')}`)
  console.log(lines.join('\n'))
  console.log('RESULT ' + JSON.stringify(r))
}

main().catch(err => { console.error(err); process.exit(1) })
