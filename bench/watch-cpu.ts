/**
 * CPU time per delivered watch event in the process itself (no socket) for two source trees, side
 * by side: `bun bench/watch-cpu.ts <tree A> [<tree B>]` (B defaults to this checkout; a tree is a
 * directory with src/ and a node_modules link, e.g. from `git archive <commit>`). Each tree gets a
 * WatchHub on a SQLite file of its own with WATCHERS streams read by readers in this process; the
 * writes then alternate between the two stores, each waited for until every stream of its hub had
 * its event, and the CPU time (user + system) of each write's window counts for its tree. Writes
 * of A and B follow each other, so the machine's other load weighs on both alike.
 * Environment: CPU_ROUNDS (default 10), WATCHERS (default 2000), CPU_WRITES per round and tree
 * (default 20). Prints per round the CPU per delivered event of A and B, and B/A.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { median } from './report.ts'

const [treeA, treeB = resolve(import.meta.dir, '..')] = process.argv.slice(2).map((tree) => resolve(tree))
if (!treeA) throw new Error('usage: bun bench/watch-cpu.ts <tree A> [<tree B>]')
const rounds = Number(process.env.CPU_ROUNDS ?? 10)
const watchers = Number(process.env.WATCHERS ?? 2000)
const writes = Number(process.env.CPU_WRITES ?? 20)
const author = { actor: 'bench', requestId: 'bench' }

interface Side {
  tree: string
  dir: string
  store: { create(config: unknown, meta: typeof author): Promise<unknown>; close(): Promise<void> }
  /** Event frames the readers took so far (heart-beats are shorter). */
  delivered: number
  perEvent: number[]
}

const cpuMs = () => {
  const { user, system } = process.cpuUsage()
  return (user + system) / 1000
}

async function open(tree: string): Promise<Side> {
  const { WatchHub } = await import(join(tree, 'src/http/watch/watch-hub.ts'))
  const { SqliteConfigStore } = await import(join(tree, 'src/store/sqlite/sqlite-store.ts'))
  const { openBunSqlite } = await import(join(tree, 'src/store/sqlite/sqlite-bun.ts'))
  const dir = mkdtempSync(join(tmpdir(), 'watch-cpu-'))
  const store = new SqliteConfigStore({ path: join(dir, 'configs.db'), open: openBunSqlite })
  const hub = new WatchHub(store, { heartbeatMs: 3_600_000, bufferEvents: 1000, bufferBytes: 4 << 20 })
  const side: Side = { tree, dir, store, delivered: 0, perEvent: [] }
  for (let i = 0; i < watchers; i++) {
    const response: Response = await hub.open({ filters: [] })
    const reader = (response.body as ReadableStream<Uint8Array>).getReader()
    void (async () => {
      for (;;) {
        const { done, value } = await reader.read()
        if (done) return
        if (value.length > 40) side.delivered++
      }
    })()
  }
  return side
}

const sides = [await open(treeA), await open(treeB)]
let written = 0
for (let round = 0; round < rounds; round++) {
  const spent = [0, 0]
  for (let n = 0; n < writes; n++) {
    for (const i of (n + round) % 2 === 0 ? [0, 1] : [1, 0]) {
      const side = sides[i] as Side
      const target = side.delivered + watchers
      const before = cpuMs()
      await side.store.create({ dcname: `fanout-${written++}`, metadata: { team: 'fanout', n } }, author)
      while (side.delivered < target) await new Promise((resolve) => setImmediate(resolve))
      spent[i] = (spent[i] ?? 0) + cpuMs() - before
    }
  }
  for (const i of [0, 1]) (sides[i] as Side).perEvent.push(((spent[i] ?? 0) * 1000) / (watchers * writes))
  const [a, b] = sides.map((side) => side.perEvent.at(-1) ?? 0)
  console.log(
    `round ${round + 1}: A ${a?.toFixed(2)} us, B ${b?.toFixed(2)} us, B/A ${((b ?? 0) / (a ?? 1)).toFixed(3)}`,
  )
  Bun.gc(true)
}
const [a, b] = sides as [Side, Side]
const ratios = a.perEvent.map((value, i) => (b.perEvent[i] ?? 0) / value)
console.log(`A ${a.tree}: ${median(a.perEvent).toFixed(2)} us per delivered event (median)`)
console.log(`B ${b.tree}: ${median(b.perEvent).toFixed(2)} us per delivered event (median)`)
console.log(`B/A: ${median(ratios).toFixed(3)} (median of the rounds)`)
for (const side of sides) rmSync(side.dir, { recursive: true, force: true })
process.exit(0)
