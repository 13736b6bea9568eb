/**
 * configctl rollout, as `make cli` builds it, against a real service process: a rollout started
 * from a YAML file, its status (the list, and one rollout by wave with its timeline), an
 * approval refused to its creator and made by another token, pause, resume and abort, a
 * file the service refuses (its one-line problem, exit 1), and `status ID --watch` following a
 * rollout to its end (exit 0 when completed, 1 when aborted).
 */
import { afterAll, beforeAll, describe, expect, it } from 'bun:test'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { sha256 } from '../access/support.ts'
import { type RunningServer, startServer, tempDir } from '../support/server.ts'
import { waitFor } from '../support/wait.ts'
import { api, BINARY, buildConfigctl, configctl, configFolder, lineReader } from './support.ts'

let server: RunningServer
let url: string
const ALICE = { env: { CONFIGCTL_TOKEN: 'alice-secret' } }
const BOB = { env: { CONFIGCTL_TOKEN: 'bob-secret' } }
const ALICE_AUTH = { authorization: 'Bearer alice-secret' }
const BOB_AUTH = { authorization: 'Bearer bob-secret' }

beforeAll(async () => {
  const tokens = join(tempDir('rollout-cli-'), 'tokens.yaml')
  writeFileSync(
    tokens,
    `tokens:\n  - { name: alice, sha256: ${sha256('alice-secret')}, role: writer }\n` +
      `  - { name: bob, sha256: ${sha256('bob-secret')}, role: writer }\n`,
  )
  ;[server] = await Promise.all([
    startServer({ env: { SEED: 'false', API_TOKENS_FILE: tokens, ROLLOUT_POLL_MS: '50' } }),
    buildConfigctl(),
  ])
  url = server.url
  for (const dcname of ['web-1', 'web-2', 'web-3', 'web-4']) {
    const created = await api(url, '/configs', {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: 'Bearer alice-secret' },
      body: JSON.stringify({ dcname, metadata: { replicas: 1 } }),
    })
    expect(created.status).toBe(201)
  }
}, 60_000)
afterAll(async () => {
  await server.stop()
})

const rolloutFile = (body: string) => `${configFolder({ 'change.yaml': body })}/change.yaml`
const CHANGE = `change:\n  merge: {replicas: 2}\ntarget: {prefix: web-}\nwaves:\n  - percent: 50\n  - percent: 100\nbake: 1h\napproval: {required: 1}\n`

describe('configctl rollout', () => {
  it('when a rollout is started, approved by another actor, paused, resumed and aborted, then each step says so', async () => {
    const started = await configctl(url, ['rollout', 'start', '-f', rolloutFile(CHANGE)], ALICE)
    expect(started.code).toBe(0)
    const id = /^rollout\/(\S+) started: 4 config\(s\) in 2 wave\(s\), pending-approval$/m.exec(
      started.stdout,
    )?.[1] as string
    expect(id).toBeDefined()
    const own = await configctl(url, ['rollout', 'approve', id], ALICE)
    expect(own.code).toBe(1)
    expect(own.stderr).toContain('another actor must approve')
    expect((await configctl(url, ['rollout', 'approve', id], BOB)).stdout).toBe(`rollout/${id} pending-approval\n`)
    await waitFor(
      async () => (await configctl(url, ['rollout', 'status', id], ALICE)).stdout.includes(': baking'),
      30_000,
      'wave 1 baking',
    )
    const status = await configctl(url, ['rollout', 'status', id], ALICE)
    expect(status.stdout).toContain('wave 1: 2 config(s): 2 applied')
    expect(status.stdout).toContain('wave 2: 2 config(s): 2 pending')
    expect(status.stdout).toMatch(/approved\s+by bob/)
    expect((await configctl(url, ['rollout', 'pause', id], BOB)).stdout).toBe(`rollout/${id} paused: paused by bob\n`)
    expect((await configctl(url, ['rollout', 'resume', id], ALICE)).stdout).toBe(`rollout/${id} baking\n`)
    expect((await configctl(url, ['rollout', 'abort', id], ALICE)).stdout).toBe(
      `rollout/${id} reverting: aborted by alice\n`,
    )
    await waitFor(
      async () => (await configctl(url, ['rollout', 'status'], ALICE)).stdout.includes('aborted'),
      30_000,
      'the abort',
    )
    const listed = await configctl(url, ['rollout', 'status', '-o', 'json'], ALICE)
    expect(JSON.parse(listed.stdout)).toEqual([expect.objectContaining({ id, status: 'aborted' })])
  }, 60_000)

  it('when the file asks for what cannot be done, then the service refuses it in one line and exit 1', async () => {
    const refused = await configctl(
      url,
      ['rollout', 'start', '-f', rolloutFile(CHANGE.replace('bake: 1h', 'bake: soon'))],
      ALICE,
    )
    expect(refused.code).toBe(1)
    expect(refused.stderr.trim().split('\n')).toHaveLength(1)
    expect(refused.stderr).toContain('duration')
  })

  /** `rollout status ID --watch` as a process, once it printed the rollout's status now. */
  async function follow(id: string) {
    const child = Bun.spawn([BINARY, 'rollout', 'status', id, '--watch'], {
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', CONFIGCTL_URL: url, ...ALICE.env },
      stdin: 'ignore',
      stdout: 'pipe',
      stderr: 'pipe',
    })
    const lines = lineReader(child.stdout)
    const first = await lines.next(30_000)
    const rest = async () => {
      const printed: string[] = []
      for (;;) {
        try {
          printed.push(await lines.next(30_000))
        } catch {
          return { code: await child.exited, printed }
        }
      }
    }
    return { first, rest }
  }

  const start = async (file: string) => {
    const started = await configctl(url, ['rollout', 'start', '-f', rolloutFile(file)], ALICE)
    expect(started.code).toBe(0)
    return /rollout\/(\S+) started/.exec(started.stdout)?.[1] as string
  }

  it('when --watch follows a rollout to completion, then it prints each step and exits 0', async () => {
    const id = await start(CHANGE.replace('bake: 1h', 'bake: 20ms'))
    const watching = await follow(id)
    expect(watching.first).toBe(`rollout/${id}: pending-approval`)
    expect((await api(url, `/rollouts/${id}/approve`, { method: 'POST', headers: BOB_AUTH })).status).toBe(200)
    const { code, printed } = await watching.rest()
    expect(code).toBe(0)
    expect(printed.map((line) => line.split(' ')[1])).toEqual([
      'approved:',
      'wave-started:',
      'wave-applied:',
      'wave-baked:',
      'wave-started:',
      'wave-applied:',
      'wave-baked:',
      'completed:',
    ])
    expect(printed.at(-1)).toMatch(/completed: completed, wave 2\/2$/)
  }, 60_000)

  it('when --watch follows a rollout that is aborted, then it prints the abort and exits 1', async () => {
    const id = await start(CHANGE)
    const watching = await follow(id)
    expect((await api(url, `/rollouts/${id}/abort`, { method: 'POST', headers: ALICE_AUTH })).status).toBe(200)
    const { code, printed } = await watching.rest()
    expect(code).toBe(1)
    expect(printed).toEqual([expect.stringMatching(/ abort: aborted \(by alice\)$/)])
  }, 60_000)

  it('when --watch is given without an id, then it is a usage error', async () => {
    const run = await configctl(url, ['rollout', 'status', '--watch'], ALICE)
    expect([run.code, run.stderr.trim()]).toEqual([2, expect.stringContaining('--watch follows one rollout')])
  })
})
