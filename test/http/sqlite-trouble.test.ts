/**
 * A SQLite file in trouble, under a real service process on Bun and on Deno: its disk fills up
 * (a real tmpfs, filled to the last byte) and frees again, and a file with a damaged page is
 * refused at start-up.
 */
import { afterAll, beforeAll, describe, expect, it, setDefaultTimeout } from 'bun:test'
import { join } from 'node:path'
import { eventually } from '../access/support.ts'
import { damagedStoreFile } from '../support/damaged-sqlite.ts'
import { type RunningServer, type Runtime, runUntilExit, startServer } from '../support/server.ts'
import { mountSmallDisk, type SmallDisk } from '../support/small-disk.ts'

setDefaultTimeout(60_000)

const NOT_DURABLE = 'store: writes cannot be made durable; they answer 503 and /readyz 503 until they can'
const DURABLE_AGAIN = 'store: writes are durable again'
const DISK_FULL = 'writes cannot be made durable: the disk is full (SQLITE_FULL)'

describe.each(['bun', 'deno'] as Runtime[])('a SQLite disk that fills up, on %s', (runtime) => {
  let disk: SmallDisk
  let server: RunningServer
  const lines = () => server.lines as Record<string, unknown>[]
  const linesSaying = (msg: string) => lines().filter((line) => line.msg === msg)
  // Every write is the same size: one that fails needs as much new space as the one before it.
  const big = { blob: 'x'.repeat(32 * 1024) }
  const post = async (dcname: string) => {
    const response = await fetch(`${server.url}/configs`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ dcname, metadata: big }),
    })
    return { status: response.status, body: await response.json() }
  }
  const readyz = async () => {
    const response = await fetch(`${server.url}/readyz`)
    return { status: response.status, body: await response.json() }
  }

  beforeAll(async () => {
    disk = mountSmallDisk()
    server = await startServer({
      runtime,
      databaseUrl: `sqlite:${join(disk.dir, 'configs.db')}`,
      env: { SEED: 'false' },
    })
  })
  afterAll(async () => {
    await server?.stop()
    disk?.dispose()
  })

  it('when the disk fills up, then writes answer 503 naming the cause, nothing is stored, and one error line says why', async () => {
    expect((await post('before')).status).toBe(201)
    disk.fill()
    let refused: { status: number; body: { detail?: string } } | undefined
    let n = 0
    // Writes in the WAL's room left from earlier frames may still succeed; a few more cannot.
    while (refused === undefined && n < 100) {
      const answer = await post(`full-${++n}`)
      if (answer.status !== 201) refused = answer
    }
    expect(refused).toEqual({ status: 503, body: expect.objectContaining({ detail: DISK_FULL }) })
    for (let i = 0; i < 3; i++) expect((await post(`full-more-${i}`)).status).toBe(503)
    expect((await fetch(`${server.url}/configs/full-${n}`)).status).toBe(404)
    await eventually('the error line', () => linesSaying(NOT_DURABLE)[0])
    expect(linesSaying(NOT_DURABLE)).toEqual([
      expect.objectContaining({ level: 'error', problem: 'the disk is full (SQLITE_FULL)' }),
    ])
  })

  it('when the disk is full, then /readyz answers 503 with the cause, and reads still work', async () => {
    expect(await readyz()).toEqual({ status: 503, body: expect.objectContaining({ detail: DISK_FULL }) })
    expect((await fetch(`${server.url}/configs/before`)).status).toBe(200)
    expect(linesSaying(NOT_DURABLE)).toHaveLength(1)
  })

  it('when space is freed, then /readyz is 200 again without a client write, one line says so, and writes work', async () => {
    disk.free()
    await eventually('readiness', async () => ((await readyz()).status === 200 ? true : undefined), 10_000)
    await eventually('the line', () => linesSaying(DURABLE_AGAIN)[0])
    expect(linesSaying(DURABLE_AGAIN)).toHaveLength(1)
    expect((await post('after')).status).toBe(201)
    expect(linesSaying(NOT_DURABLE)).toHaveLength(1)
  })
})

describe.each(['bun', 'deno'] as Runtime[])('a SQLite file with a damaged page, on %s', (runtime) => {
  it('when the service starts on it, then it exits with 1 and one line naming the file and the check', async () => {
    const path = await damagedStoreFile()
    const exit = await runUntilExit(runtime, { DATABASE_URL: `sqlite:${path}`, SEED: 'false' })
    expect(exit.code).toBe(1)
    expect(exit.stderr).toHaveLength(1)
    expect(exit.stderr[0]).toStartWith(
      `cannot start: DATABASE_URL: cannot open the SQLite database ${path}: the file is damaged (PRAGMA quick_check: `,
    )
    expect(exit.stderr[0]).toMatch(/quick_check: Tree \d+ page \d+: .+\); restore it from a backup or move it away$/)
  })
})
