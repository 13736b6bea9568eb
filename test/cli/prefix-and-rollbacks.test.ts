/**
 * configctl's `--prefix` (list, get, watch) and how history and watch show a rollback, on the
 * built binary (dist/configctl) against a real service process.
 */
import { afterAll, beforeAll, describe, expect, it } from 'bun:test'
import { createClient } from '../../src/client/index.ts'
import { type RunningServer, startServer } from '../support/server.ts'
import { api, BINARY, buildConfigctl, configctl, lineReader } from './support.ts'

let server: RunningServer
let url: string
let first: number

beforeAll(async () => {
  ;[server] = await Promise.all([startServer({ env: { SEED: 'false' } }), buildConfigctl()])
  url = server.url
  const client = createClient({ url })
  first = (await client.create({ dcname: 'pay-a', metadata: { v: 1 } })).revision
  await client.create({ dcname: 'pay-b', metadata: { v: 1 } })
  await client.create({ dcname: 'payroll-1', metadata: { v: 1 } })
  await client.create({ dcname: 'ship-a', metadata: { v: 1 } })
  await client.patch('pay-a', { metadata: { v: 2 } })
}, 60_000)
afterAll(async () => {
  await server.stop()
})

const names = (stdout: string) => (JSON.parse(stdout) as { dcname: string }[]).map((c) => c.dcname)

describe('configctl --prefix', () => {
  it('when list is given a prefix, then it prints only the configs whose dcname starts with it', async () => {
    const run = await configctl(url, ['list', '--prefix', 'pay-', '-o', 'json'])
    expect(run.code).toBe(0)
    expect(names(run.stdout)).toEqual(['pay-a', 'pay-b'])
  })

  it('when get is given a prefix, then it prints every matching config in full, with its revision', async () => {
    const run = await configctl(url, ['get', '--prefix', 'pay', '-o', 'json'])
    expect(run.code).toBe(0)
    const configs = JSON.parse(run.stdout)
    expect(configs.map((c: { dcname: string }) => c.dcname)).toEqual(['pay-a', 'pay-b', 'payroll-1'])
    expect(configs[0]).toEqual({ dcname: 'pay-a', revision: expect.any(Number), metadata: { v: 2 } })
  })

  it('when no config starts with the prefix, then list says so on stderr and exits 0', async () => {
    const run = await configctl(url, ['list', '--prefix', 'nothing-'])
    expect([run.code, run.stdout, run.stderr]).toEqual([0, '', 'no configs start with "nothing-"\n'])
  })

  it('when the prefix is not the start of a dcname, then it is a usage error before any request', async () => {
    for (const command of ['list', 'get', 'watch']) {
      const run = await configctl('http://127.0.0.1:9', [command, '--prefix', '-bad'])
      expect(run.code).toBe(2)
      expect(run.stderr).toContain('expected the start of a dcname')
      expect(run.stderr.trimEnd().split('\n')).toHaveLength(1)
    }
  })

  it('when get is given both a dcname and a prefix, then it is a usage error', async () => {
    const run = await configctl(url, ['get', 'pay-a', '--prefix', 'pay-'])
    expect(run.code).toBe(2)
    expect(run.stderr).toContain('not both')
  })

  it('when watch is given a prefix, then it prints only the events of configs starting with it', async () => {
    const child = Bun.spawn([BINARY, 'watch', '--since', '0', '--prefix', 'pay-', '-o', 'json'], {
      env: { PATH: process.env.PATH ?? '', CONFIGCTL_URL: url },
      stdout: 'pipe',
      stderr: 'pipe',
    })
    try {
      const lines = lineReader(child.stdout)
      const seen: string[] = []
      for (let i = 0; i < 3; i++) {
        const event = JSON.parse(await lines.next())
        seen.push(`${event.type} ${event.config.dcname}`)
      }
      expect(seen).toEqual(['ADDED pay-a', 'ADDED pay-b', 'MODIFIED pay-a'])
    } finally {
      child.kill('SIGINT')
      await child.exited
    }
  })
})

describe('configctl and rollbacks', () => {
  it('when a config was rolled back, then history shows the revision it restored in ROLLBACK-OF', async () => {
    const rolled = await configctl(url, ['rollback', 'ship-a', '--to', String(first + 3)])
    expect(rolled.code).toBe(0)
    const lines = (await configctl(url, ['history', 'ship-a'])).stdout.trimEnd().split('\n')
    expect(lines[0]).toMatch(/^REVISION +TYPE +ROLLBACK-OF +TIME +ACTOR +METADATA$/)
    expect(lines[1]).toMatch(new RegExp(`^\\d+ +MODIFIED +${first + 3} +\\S+ +anonymous +\\{"v":1\\}$`))
    expect(lines[2]).toMatch(/^\d+ +ADDED +- +/)
  })

  it('when a rollback happens during a watch, then its line names the revision it restored', async () => {
    const since = Number((await api(url, '/configs?limit=1')).headers.get('x-revision'))
    const child = Bun.spawn([BINARY, 'watch', '--since', String(since), '--prefix', 'pay-a'], {
      env: { PATH: process.env.PATH ?? '', CONFIGCTL_URL: url },
      stdout: 'pipe',
      stderr: 'pipe',
    })
    try {
      const lines = lineReader(child.stdout)
      await createClient({ url }).rollback('pay-a', first)
      expect(await lines.next()).toMatch(
        new RegExp(`^MODIFIED +config/pay-a revision ${since + 1} \\(rollback of ${first}\\) \\{"v":1\\}$`),
      )
    } finally {
      child.kill('SIGINT')
      await child.exited
    }
  })
})
