/**
 * Durable writes on PostgreSQL for two source trees, in one process: `bun bench/pg-writes.ts
 * <tree A> [<tree B>]` (B defaults to this checkout; a tree is a directory with src/ and a
 * node_modules link, e.g. from `git archive <commit>`). 32 writers (PG_WRITERS) call the store
 * directly, each awaiting its own writes one after another: first creates, then replaces with
 * If-Match of the revision it got. Rounds alternate A, B, B, A, ... on a new database each, on
 * one throwaway PostgreSQL server (test/support/postgres.ts, fsync on). Reported per round:
 * writes per second, this process's CPU time per write (moves far less with the machine's load),
 * and, for a tree with group commit, how many writes each transaction held. With writers
 * awaiting their own writes, the transactions hold as many writes as there are writers: a list
 * (PG_WRITERS=1,8,32) measures each of those batch sizes in every round.
 * Environment: PG_ROUNDS (default 4), PG_WRITERS (32, or a list), PG_WRITES per writer and kind
 * (default: 1,920 writes per kind and measurement, shared by the writers).
 */
import { existsSync } from 'node:fs'
import { resolve } from 'node:path'
import { startPostgres } from '../test/support/postgres.ts'
import { median } from './report.ts'

const [treeA, treeB = resolve(import.meta.dir, '..')] = process.argv.slice(2).map((tree) => resolve(tree))
if (!treeA) throw new Error('usage: bun bench/pg-writes.ts <tree A> [<tree B>]')
const rounds = Number(process.env.PG_ROUNDS ?? 4)
const writerCounts = (process.env.PG_WRITERS ?? '32').split(',').map(Number)
const perWriterOf = (writers: number) => Number(process.env.PG_WRITES ?? Math.ceil(1920 / writers))
const author = { actor: 'bench', requestId: 'bench' }
const KINDS = ['create', 'put-if-match'] as const

/** Sizes of the transactions of the current measurement (trees with group commit only). */
const batches: number[] = []

interface Tree {
  label: string
  open(url: string): Promise<Store>
}
interface Store {
  create(config: object, meta: object): Promise<{ revision: number }>
  replace(config: object, precondition: object, meta: object): Promise<{ stored: { revision: number } }>
  close(): Promise<void>
}

async function load(label: string, dir: string): Promise<Tree> {
  const { PostgresConfigStore } = await import(`${dir}/src/store/postgres/postgres-store.ts`)
  const groupCommit = `${dir}/src/store/postgres/group-commit.ts`
  if (existsSync(groupCommit)) {
    const { GroupCommit } = await import(groupCommit)
    const commit = GroupCommit.prototype.commit
    GroupCommit.prototype.commit = function (this: unknown, batch: unknown[]) {
      batches.push(batch.length)
      return commit.call(this, batch)
    }
  }
  return { label, open: (url) => PostgresConfigStore.open({ url }) }
}

const trees = [await load('A', treeA), await load('B', treeB)]
const server = await startPostgres()
type Sample = { perSecond: number; cpuUsPerWrite: number }
const samples = new Map<string, Sample[]>()

async function measure(tree: Tree, kind: string, writers: number, write: (writer: number, i: number) => Promise<void>) {
  const perWriter = perWriterOf(writers)
  batches.length = 0
  const cpu = process.cpuUsage()
  const started = performance.now()
  await Promise.all(
    Array.from({ length: writers }, async (_, writer) => {
      for (let i = 0; i < perWriter; i++) await write(writer, i)
    }),
  )
  const ms = performance.now() - started
  const used = process.cpuUsage(cpu)
  const n = writers * perWriter
  const sample = { perSecond: (n / ms) * 1000, cpuUsPerWrite: (used.user + used.system) / n }
  const key = `${tree.label} ${kind} ${writers}`
  samples.set(key, [...(samples.get(key) ?? []), sample])
  const sizes = batches.length === 0 ? '' : `, ${batches.length} transactions of ${median(batches)} (median)`
  console.log(
    `${key} writers: ${sample.perSecond.toFixed(0)} writes/s, ${sample.cpuUsPerWrite.toFixed(0)} us CPU/write${sizes}`,
  )
}

try {
  for (let round = 1; round <= rounds; round++) {
    for (const writers of writerCounts) {
      for (const tree of round % 2 ? trees : [...trees].reverse()) {
        const store = await tree.open(await server.createDatabase(`writes_${tree.label}_${round}_${writers}`))
        try {
          const revisions = Array.from({ length: writers }, () => [] as number[])
          const name = (writer: number, i: number) => `dc-${writer}-${i}`
          await measure(tree, 'create', writers, async (writer, i) => {
            const stored = await store.create({ dcname: name(writer, i), metadata: { writer, i } }, author)
            revisions[writer]?.push(stored.revision)
          })
          await measure(tree, 'put-if-match', writers, async (writer, i) => {
            const ifMatch = revisions[writer]?.[i]
            await store.replace({ dcname: name(writer, i), metadata: { writer, i, v: 2 } }, { ifMatch }, author)
          })
        } finally {
          await store.close()
        }
      }
    }
  }
  for (const [kind, writers] of KINDS.flatMap((kind) => writerCounts.map((n) => [kind, n] as const))) {
    const [a, b] = trees.map((tree) => samples.get(`${tree.label} ${kind} ${writers}`) ?? [])
    const ratios = (of: (s: Sample) => number) => (a ?? []).map((s, i) => of(b?.[i] as Sample) / of(s))
    const speed = ratios((s) => s.perSecond)
    const cpu = ratios((s) => s.cpuUsPerWrite)
    const show = (xs: number[]) => `${xs.map((x) => x.toFixed(2)).join(' ')} (median ${median(xs).toFixed(2)})`
    console.log(`${kind}, ${writers} writers, B/A: writes/s ${show(speed)}; CPU per write ${show(cpu)}`)
  }
} finally {
  await server.dispose()
}
