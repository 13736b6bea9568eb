/**
 * The audit trail of a real service process on Bun and on Deno: every write attempt, refused or
 * not, leaves exactly one `audit` line on stdout, in order, naming who tried what on which
 * config, how it ended, the revision it wrote (only when it did), and the request id, trace id
 * and peer address that join it to the response and the access line. Reads leave none, and no
 * line carries a token.
 */
import { afterAll, beforeAll, describe, expect, it, setDefaultTimeout } from 'bun:test'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { type RunningServer, type Runtime, startServer, tempDir } from '../support/server.ts'
import { eventually, sha256 } from './support.ts'

setDefaultTimeout(60_000)

const SECRETS = {
  api: 'api-token-6c2e9a41',
  reader: 'reader-token-0f5b7d22',
  writer: 'writer-token-93ad4e18',
  unknown: 'never-issued-token-7e1c',
}

const TOKENS_FILE = `
tokens:
  - { name: team-reader, sha256: ${sha256(SECRETS.reader)}, role: reader }
  - { name: team-writer, sha256: ${sha256(SECRETS.writer)}, role: writer, prefixes: [payments-] }
`

const MAX_BODY_BYTES = 1024

type Line = Record<string, unknown>

interface Sent {
  status: number
  requestId: string | null
  etag: string | null
}

/** What one write attempt should leave in the audit trail. */
interface Expected {
  actor: string
  action: string
  dcname: string | null
  status: number
  /** true: the revision of the ETag (or of the deletion); false: no revision field. */
  revision: boolean
}

const LOOPBACK = new Set(['127.0.0.1', '::1'])

describe.each(['bun', 'deno'] as Runtime[])('the audit trail of a real process on %s', (runtime) => {
  let server: RunningServer

  beforeAll(async () => {
    const file = join(tempDir(), 'tokens.yaml')
    writeFileSync(file, TOKENS_FILE)
    server = await startServer({
      runtime,
      env: {
        API_TOKEN: SECRETS.api,
        API_TOKENS_FILE: file,
        MAX_BODY_BYTES: String(MAX_BODY_BYTES),
        SEED: 'false',
      },
    })
  })

  afterAll(async () => {
    await server?.stop()
  })

  async function send(
    method: string,
    path: string,
    { token, body, headers = {} }: { token?: string; body?: string; headers?: Record<string, string> } = {},
  ): Promise<Sent> {
    const response = await fetch(`${server.url}${path}`, {
      method,
      headers: {
        'content-type': 'application/json',
        ...(token === undefined ? {} : { authorization: `Bearer ${token}` }),
        ...headers,
      },
      body,
    })
    await response.arrayBuffer()
    return {
      status: response.status,
      requestId: response.headers.get('x-request-id'),
      etag: response.headers.get('etag'),
    }
  }

  const json = (value: unknown) => JSON.stringify(value)

  it('when writes are tried, allowed and refused, then each leaves one audit line, in order, and reads leave none', async () => {
    const auditBefore = server.lines.filter((l) => (l as Line).msg === 'audit').length
    const attempts: { sent: Sent; expected: Expected }[] = []
    const write = async (
      expected: Expected,
      method: string,
      path: string,
      options: Parameters<typeof send>[2] = {},
    ) => {
      const sent = await send(method, path, options)
      expect([expected.action, expected.actor, sent.status]).toEqual([expected.action, expected.actor, expected.status])
      attempts.push({ sent, expected })
      return sent
    }
    const writer = SECRETS.writer
    const etagOf = (sent: Sent) => Number(sent.etag?.replaceAll('"', ''))

    const created = await write(
      { actor: 'team-writer', action: 'create', dcname: 'payments-a', status: 201, revision: true },
      'POST',
      '/configs',
      { token: writer, body: json({ dcname: 'payments-a', metadata: { v: 1 } }) },
    )
    await write(
      { actor: 'team-writer', action: 'create', dcname: 'payments-a', status: 409, revision: false },
      'POST',
      '/configs',
      { token: writer, body: json({ dcname: 'payments-a', metadata: { v: 2 } }) },
    )
    // A read between writes: no audit line.
    expect((await send('GET', '/configs/payments-a', { token: writer })).status).toBe(200)
    const replaced = await write(
      { actor: 'api-token', action: 'replace', dcname: 'payments-a', status: 200, revision: true },
      'PUT',
      '/configs/payments-a',
      { token: SECRETS.api, body: json({ metadata: { v: 3 } }) },
    )
    await write(
      { actor: 'team-writer', action: 'patch', dcname: 'payments-a', status: 412, revision: false },
      'PATCH',
      '/configs/payments-a',
      { token: writer, body: json({ metadata: { v: 4 } }), headers: { 'if-match': created.etag ?? '' } },
    )
    await write(
      { actor: 'team-writer', action: 'patch', dcname: 'payments-a', status: 415, revision: false },
      'PATCH',
      '/configs/payments-a',
      { token: writer, body: json({ metadata: { v: 4 } }), headers: { 'content-type': 'text/plain' } },
    )
    expect((await send('GET', '/configs/payments-a/history', { token: writer })).status).toBe(200)
    await write(
      { actor: 'team-writer', action: 'delete', dcname: 'payments-a', status: 204, revision: true },
      'DELETE',
      '/configs/payments-a',
      { token: writer },
    )
    // The deletion's revision: the one just before the rollback that follows it.
    const rolledBack = await write(
      { actor: 'team-writer', action: 'rollback', dcname: 'payments-a', status: 201, revision: true },
      'POST',
      '/configs/payments-a/rollback',
      { token: writer, body: json({ revision: etagOf(replaced) }) },
    )
    await write(
      { actor: 'anonymous', action: 'create', dcname: null, status: 401, revision: false },
      'POST',
      '/configs',
      { body: json({ dcname: 'payments-b', metadata: {} }) },
    )
    await write(
      { actor: 'unknown', action: 'replace', dcname: 'payments-b', status: 401, revision: false },
      'PUT',
      '/configs/payments-b',
      { token: SECRETS.unknown, body: json({ metadata: {} }) },
    )
    await write(
      { actor: 'team-reader', action: 'delete', dcname: 'payments-a', status: 403, revision: false },
      'DELETE',
      '/configs/payments-a',
      { token: SECRETS.reader },
    )
    await write(
      { actor: 'team-writer', action: 'replace', dcname: 'billing-a', status: 403, revision: false },
      'PUT',
      '/configs/billing-a',
      { token: writer, body: json({ metadata: {} }) },
    )
    // The body names a config outside the writer's prefixes: refused by the handler, after the body was read.
    await write(
      { actor: 'team-writer', action: 'create', dcname: 'billing-b', status: 403, revision: false },
      'POST',
      '/configs',
      { token: writer, body: json({ dcname: 'billing-b', metadata: {} }) },
    )
    await write(
      { actor: 'team-writer', action: 'create', dcname: null, status: 400, revision: false },
      'POST',
      '/configs',
      { token: writer, body: '{"dcname": broken' },
    )
    await write(
      { actor: 'team-writer', action: 'create', dcname: null, status: 413, revision: false },
      'POST',
      '/configs',
      { token: writer, body: json({ dcname: 'payments-big', metadata: { pad: 'x'.repeat(2 * MAX_BODY_BYTES) } }) },
    )
    await write(
      { actor: 'team-writer', action: 'rollback', dcname: 'payments-a', status: 400, revision: false },
      'POST',
      '/configs/payments-a/rollback',
      { token: writer, body: json({ revision: 'one' }) },
    )
    // Not write attempts on a route: no audit line.
    expect((await send('POST', '/nowhere', { token: writer, body: '{}' })).status).toBe(404)
    expect((await send('DELETE', '/configs', { token: writer })).status).toBe(405)
    expect((await send('GET', '/configs', { token: writer })).status).toBe(200)

    const audit = await eventually('every audit line', () => {
      const lines = server.lines.filter((l) => (l as Line).msg === 'audit').slice(auditBefore) as Line[]
      return lines.length >= attempts.length ? lines : undefined
    })
    // Nothing more arrives late: exactly one line per attempt, and the next one is a later write's.
    const later = await send('PUT', '/configs/payments-later', { token: writer, body: json({ metadata: {} }) })
    const withLater = await eventually('the audit line of a later write', () => {
      const lines = server.lines.filter((l) => (l as Line).msg === 'audit').slice(auditBefore) as Line[]
      return lines.length > attempts.length ? lines : undefined
    })
    expect(withLater.map((l) => l.requestId)).toEqual([...attempts.map((a) => a.sent.requestId), later.requestId])

    const deletionRevision = etagOf(rolledBack) - 1
    const accessLines = server.lines.filter((l) => (l as Line).msg === 'request') as Line[]
    attempts.forEach(({ sent, expected }, i) => {
      const line = audit[i] as Line
      expect(Object.keys(line).sort()).toEqual(
        [
          'level',
          'time',
          'service',
          'msg',
          'actor',
          'action',
          'dcname',
          'status',
          'requestId',
          'traceId',
          'sourceIp',
          ...(expected.revision ? ['revision'] : []),
          // A rollback whose body named a revision says which (the next test checks its value).
          ...(expected.action === 'rollback' && expected.status !== 400 ? ['rollbackOf'] : []),
        ].sort(),
      )
      const revision = !expected.revision ? undefined : expected.action === 'delete' ? deletionRevision : etagOf(sent)
      expect({
        actor: line.actor,
        action: line.action,
        dcname: line.dcname,
        status: line.status,
        revision: line.revision,
      }).toEqual({ ...expected, revision })
      expect(line).toMatchObject({ level: 'info', service: 'config-service', msg: 'audit' })
      expect(line.requestId).toBe(sent.requestId)
      expect(line.traceId).toMatch(/^[0-9a-f]{32}$/)
      const access = accessLines.find((l) => l.request_id === sent.requestId)
      expect(access?.trace_id).toBe(line.traceId)
      expect(LOOPBACK.has(String(line.sourceIp))).toBe(true)
    })
    expect(audit.map((l) => l.revision).filter((r) => r !== undefined)).toEqual([
      etagOf(created),
      etagOf(replaced),
      deletionRevision,
      etagOf(rolledBack),
    ])
  })

  it('when schema and config writes are forced, dry runs or warned, then their audit lines say so', async () => {
    const writer = SECRETS.writer
    const auditOf = (sent: Sent) =>
      eventually(`the audit line of ${sent.requestId}`, () =>
        server.lines.find((l) => (l as Line).msg === 'audit' && (l as Line).requestId === sent.requestId),
      ) as Promise<Line>
    const schema = (mode: string) =>
      json({ prefix: 'payments-s-', mode, schema: { type: 'object', required: ['replicas'] } })
    await send('POST', '/configs', { token: writer, body: json({ dcname: 'payments-s-1', metadata: {} }) })

    const forced = await send('PUT', '/schemas/payments-s?force=true', { token: writer, body: schema('enforce') })
    const dryRun = await send('PUT', '/configs/payments-s-2?dryRun=true', {
      token: writer,
      body: json({ metadata: { replicas: 1 } }),
    })
    await send('PUT', '/schemas/payments-s', { token: writer, body: schema('warn') })
    const warned = await send('PUT', '/configs/payments-s-3', { token: writer, body: json({ metadata: {} }) })
    const refused = await send('PUT', '/schemas/wide', {
      token: writer,
      body: json({ ...JSON.parse(schema('warn')), prefix: '' }),
    })

    expect([forced.status, dryRun.status, warned.status, refused.status]).toEqual([201, 201, 201, 403])
    expect(await auditOf(forced)).toMatchObject({ action: 'write-schema', force: true, status: 201 })
    expect((await auditOf(forced)).warning).toContain('payments-s-1')
    const dryRunLine = await auditOf(dryRun)
    expect(dryRunLine).toMatchObject({ action: 'replace', dryRun: true, status: 201 })
    expect(dryRunLine.revision).toBeUndefined()
    expect((await auditOf(warned)).warning).toMatch(/^299 - ".*\/metadata\/replicas \(required\)"$/)
    expect(await auditOf(refused)).toMatchObject({ actor: 'team-writer', action: 'write-schema', status: 403 })

    // A schema rollback is a schema write: audited as one, naming the revision it restored.
    const restored = Number(forced.etag?.replaceAll('"', ''))
    const rollback = await send('POST', '/schemas/payments-s/rollback?force=true', {
      token: writer,
      body: json({ revision: restored }),
    })
    expect(rollback.status).toBe(200)
    expect(await auditOf(rollback)).toMatchObject({
      action: 'write-schema',
      rollbackOf: restored,
      force: true,
      revision: Number(rollback.etag?.replaceAll('"', '')),
    })
  })

  it('when a rollback is audited, then its line names the revision it restored', async () => {
    const etagOf = (sent: Sent) => Number(sent.etag?.replaceAll('"', ''))
    const token = SECRETS.api
    const created = await send('POST', '/configs', { token, body: json({ dcname: 'payments-rb', metadata: { v: 1 } }) })
    expect((await send('PUT', '/configs/payments-rb', { token, body: json({ metadata: { v: 2 } }) })).status).toBe(200)
    const rolledBack = await send('POST', '/configs/payments-rb/rollback', {
      token,
      body: json({ revision: etagOf(created) }),
    })
    expect(rolledBack.status).toBe(200)
    const line = await eventually('the audit line of the rollback', () =>
      (server.lines as Line[]).find((l) => l.msg === 'audit' && l.requestId === rolledBack.requestId),
    )
    expect([line.action, line.revision, line.rollbackOf]).toEqual(['rollback', etagOf(rolledBack), etagOf(created)])
  })

  it('when tokens were sent in writes, then no stdout or stderr line carries one', async () => {
    expect(server.rawStdout.length).toBeGreaterThan(10)
    for (const raw of [...server.rawStdout, ...server.stderr]) {
      for (const secret of Object.values(SECRETS)) expect(raw).not.toContain(secret)
      expect(raw).not.toContain('Bearer')
      expect(raw.toLowerCase()).not.toContain('authorization')
    }
    expect(server.stderr).toEqual([])
  })
})
