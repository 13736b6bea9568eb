/**
 * The access decisions the app makes before any route runs, against a real service process on
 * Bun and on Deno with every kind of credential at once: API_TOKEN, named tokens with roles and
 * prefixes, and JWTs from a real issuer. Writes need a principal that may write, a named config
 * must lie inside the caller's prefixes, the probes, docs and metrics stay open, decisions are
 * counted, spans carry the actor, and no token or JWT reaches any log line, even when refused.
 */
import { afterAll, beforeAll, describe, expect, it, setDefaultTimeout } from 'bun:test'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { parseExposition, sampleValue } from '../support/exposition-parser.ts'
import { type OtlpReceiver, startOtlpReceiver } from '../support/otlp-receiver.ts'
import { type RunningServer, type Runtime, runUntilExit, startServer, tempDir } from '../support/server.ts'
import { waitFor } from '../support/wait.ts'
import { AUDIENCE, makeKey, type SigningKey, TestIssuer } from './issuer.ts'
import { eventually, sha256 } from './support.ts'

setDefaultTimeout(60_000)

const SECRETS = {
  api: 'api-token-5d1f0b7e',
  reader: 'reader-token-8a7c2e19',
  writer: 'writer-token-4b6d9f03',
  admin: 'admin-token-1e3a5c77',
}
const DEPLOYER = 'system:serviceaccount:payments:deployer'
const UNLISTED = 'system:serviceaccount:other:default'

const TOKENS_FILE = `
tokens:
  - { name: team-reader, sha256: ${sha256(SECRETS.reader)}, role: reader, prefixes: [payments-] }
  - { name: team-writer, sha256: ${sha256(SECRETS.writer)}, role: writer, prefixes: [payments-] }
  - { name: ops-admin, sha256: ${sha256(SECRETS.admin)}, role: admin }
subjects:
  - { sub: "${DEPLOYER}", role: writer, prefixes: [payments-] }
`

describe.each(['bun', 'deno'] as Runtime[])('access decisions of a real process on %s', (runtime) => {
  let issuer: TestIssuer
  let key: SigningKey
  let receiver: OtlpReceiver
  let server: RunningServer
  const jwts: string[] = []

  beforeAll(async () => {
    issuer = new TestIssuer()
    key = await makeKey('k1')
    issuer.published = [key]
    receiver = startOtlpReceiver()
    const file = join(tempDir(), 'tokens.yaml')
    writeFileSync(file, TOKENS_FILE)
    server = await startServer({
      runtime,
      env: {
        API_TOKEN: SECRETS.api,
        API_TOKENS_FILE: file,
        OIDC_ISSUER_URL: issuer.url,
        OIDC_AUDIENCE: AUDIENCE,
        OTEL_TRACES_EXPORTER: 'otlp',
        OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: `${receiver.url}/v1/traces`,
        OTEL_BSP_SCHEDULE_DELAY: '50',
      },
    })
    await eventually('discovery', () =>
      server.lines.find((l) => (l as { msg?: string }).msg?.startsWith('OIDC: verifying')),
    )
  })

  afterAll(async () => {
    await server?.stop()
    await receiver?.stop()
    issuer?.stop()
  })

  async function send(method: string, path: string, token?: string, body?: unknown) {
    const response = await fetch(`${server.url}${path}`, {
      method,
      headers: {
        'content-type': 'application/json',
        'x-request-id': `access-${Math.random().toString(36).slice(2)}`,
        ...(token === undefined ? {} : { authorization: `Bearer ${token}` }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    })
    const text = await response.text()
    return { status: response.status, headers: response.headers, text, requestId: response.headers.get('x-request-id') }
  }

  const jwt = async (sub: string, claims = {}) => {
    const token = await issuer.token(key, sub, claims)
    jwts.push(token)
    return token
  }

  async function decisions(): Promise<Record<string, number | undefined>> {
    const families = parseExposition(await (await fetch(`${server.url}/metrics`)).text())
    const value = (result: string) => sampleValue(families, 'auth_decisions_total', { result })
    return { allowed: value('allowed'), unauthenticated: value('unauthenticated'), forbidden: value('forbidden') }
  }

  it('when the probes, docs and metrics are asked for, with no token or a bad one, then they answer without a decision', async () => {
    const before = await decisions()
    for (const path of ['/healthz', '/readyz', '/metrics', '/swagger', '/swagger/json']) {
      expect([path, (await send('GET', path)).status]).toEqual([path, 200])
      expect([path, (await send('GET', path, 'not-a-token')).status]).toEqual([path, 200])
    }
    expect(await decisions()).toEqual(before)
  })

  it('when a write carries no token or an unknown one, then it is 401 with a Bearer challenge', async () => {
    const none = await send('POST', '/configs', undefined, { dcname: 'payments-a', metadata: {} })
    expect(none.status).toBe(401)
    expect(none.headers.get('www-authenticate')).toBe('Bearer realm="config-service"')
    const unknown = await send('PUT', '/configs/payments-a', `${SECRETS.writer}x`, { metadata: {} })
    expect(unknown.status).toBe(401)
    expect(unknown.headers.get('www-authenticate')).toBe('Bearer realm="config-service", error="invalid_token"')
    expect(JSON.parse(unknown.text)).toMatchObject({ status: 401, title: 'Unauthorized' })
  })

  it('when a token is put in the query string, then it is ignored: only the Authorization header counts', async () => {
    const reply = await send('POST', `/configs?access_token=${SECRETS.api}&token=${SECRETS.api}`, undefined, {
      dcname: 'payments-q',
      metadata: {},
    })
    expect(reply.status).toBe(401)
  })

  it('when each kind of caller writes a named config inside and outside its prefixes, then the app decides before the route', async () => {
    const deployer = await jwt(DEPLOYER)
    const cases: [string, string | undefined, string, string, number][] = [
      ['writer inside', SECRETS.writer, 'PUT', '/configs/payments-w', 201],
      ['writer patch inside', SECRETS.writer, 'PATCH', '/configs/payments-w', 200],
      ['writer outside', SECRETS.writer, 'PUT', '/configs/billing-w', 403],
      ['writer delete outside', SECRETS.writer, 'DELETE', '/configs/billing-w', 403],
      ['reader inside', SECRETS.reader, 'PUT', '/configs/payments-r', 403],
      ['reader delete inside', SECRETS.reader, 'DELETE', '/configs/payments-w', 403],
      ['admin outside any prefix', SECRETS.admin, 'PUT', '/configs/billing-a', 201],
      ['API_TOKEN anywhere', SECRETS.api, 'PUT', '/configs/billing-t', 201],
      ['JWT writer inside', deployer, 'PUT', '/configs/payments-j', 201],
      ['JWT writer outside', deployer, 'PUT', '/configs/billing-j', 403],
      ['JWT writer, encoded name outside', deployer, 'PUT', '/configs/%62illing-j', 403],
      ['JWT of an unlisted sub', await jwt(UNLISTED), 'PUT', '/configs/payments-u', 403],
      [
        'expired JWT',
        await jwt(DEPLOYER, { exp: Math.floor(Date.now() / 1000) - 600 }),
        'PUT',
        '/configs/payments-x',
        401,
      ],
    ]
    const outcomes = []
    for (const [what, token, method, path, _status] of cases) {
      const body = method === 'DELETE' ? undefined : { metadata: { by: what } }
      outcomes.push([what, (await send(method, path, token, body)).status])
    }
    expect(outcomes).toEqual(cases.map(([what, , , , status]) => [what, status]))
    // Refused writes changed nothing.
    expect((await send('GET', '/configs/billing-w')).status).toBe(404)
    expect((await send('GET', '/configs/payments-w')).status).toBe(200)
  })

  it('when configs are read, then anonymous reads see them, and a token limited to prefixes may not name one outside', async () => {
    expect((await send('GET', '/configs/billing-a')).status).toBe(200)
    expect((await send('GET', '/configs')).status).toBe(200)
    expect((await send('GET', '/configs/billing-a', SECRETS.reader)).status).toBe(403)
    expect((await send('GET', '/configs/payments-w', SECRETS.reader)).status).toBe(200)
    expect((await send('GET', '/configs/billing-a', SECRETS.admin)).status).toBe(200)
    expect((await send('GET', '/configs', 'bogus-token')).status).toBe(401)
  })

  it('when decisions are made, then auth_decisions_total counts each result', async () => {
    const before = await decisions()
    await send('GET', '/configs/payments-w', SECRETS.reader)
    await send('GET', '/configs/billing-a', SECRETS.reader)
    await send('DELETE', '/configs/payments-w')
    expect(await decisions()).toEqual({
      allowed: (before.allowed ?? 0) + 1,
      forbidden: (before.forbidden ?? 0) + 1,
      unauthenticated: (before.unauthenticated ?? 0) + 1,
    })
  })

  it('when a named token or a JWT acts, then the server span carries its actor and no credential', async () => {
    const byToken = await send('GET', '/configs/payments-w', SECRETS.writer)
    const byJwt = await send('GET', '/configs/payments-w', await jwt(DEPLOYER))
    const anonymous = await send('GET', '/configs/payments-w')
    // The access line of a request names its span; the exported span says who acted.
    const actorOf = async (requestId: string | null) => {
      const line = await eventually('the access line', () =>
        (server.lines as Record<string, unknown>[]).find((l) => l.msg === 'request' && l.request_id === requestId),
      )
      const span = await receiver.waitForSpan((s) => s.spanId === line.span_id)
      return span.attributes['enduser.id']
    }
    expect(await actorOf(byToken.requestId)).toBe('team-writer')
    expect(await actorOf(byJwt.requestId)).toBe(DEPLOYER)
    expect(await actorOf(anonymous.requestId)).toBe('anonymous')
    const exported = JSON.stringify(receiver.spans)
    for (const secret of [...Object.values(SECRETS), ...jwts]) expect(exported).not.toContain(secret)
  })

  it('when tracing is on and a write is refused, then its audit line names the trace of its server span', async () => {
    const refused = await send('PUT', '/configs/billing-s', SECRETS.writer, { metadata: {} })
    expect(refused.status).toBe(403)
    const lines = server.lines as Record<string, unknown>[]
    const audit = await eventually('the audit line', () =>
      lines.find((l) => l.msg === 'audit' && l.requestId === refused.requestId),
    )
    const access = lines.find((l) => l.msg === 'request' && l.request_id === refused.requestId)
    expect(audit).toMatchObject({ actor: 'team-writer', action: 'replace', dcname: 'billing-s', status: 403 })
    expect(audit.traceId).toBe(access?.trace_id as string)
    expect((await receiver.waitForSpan((s) => s.spanId === access?.span_id)).traceId).toBe(audit.traceId as string)
  })

  it('when tokens and JWTs were sent, also in refused and failing requests, then no log line carries one', async () => {
    // A few more failures with credentials in them: a bad body, a missing config, a Basic header.
    await send('POST', '/configs', SECRETS.writer, '{"dcname": broken')
    await send('DELETE', '/configs/payments-missing', SECRETS.writer)
    await send('PATCH', '/configs/payments-w', await jwt(DEPLOYER, { aud: 'other' }), { metadata: {} })
    await fetch(`${server.url}/configs`, { headers: { authorization: `Basic ${btoa(`u:${SECRETS.admin}`)}` } })
    // The lines of those requests are out once a later request's line is.
    const later = await send('GET', '/configs')
    await waitFor(() => server.lines.some((l) => (l as { request_id?: string }).request_id === later.requestId))
    expect(server.rawStdout.length).toBeGreaterThan(20)
    const signatures = jwts.map((token) => token.split('.')[2] as string)
    for (const raw of server.rawStdout) {
      for (const secret of [...Object.values(SECRETS), ...jwts, ...signatures, btoa(`u:${SECRETS.admin}`)]) {
        expect(raw).not.toContain(secret)
      }
      expect(raw).not.toContain('Bearer')
      expect(raw.toLowerCase()).not.toContain('authorization')
    }
    expect(server.stderr).toEqual([])
  })
})

describe.each(['bun', 'deno'] as Runtime[])(
  'what a real process on %s does with the actors of a tokens file',
  (runtime) => {
    const withFile = (text: string) => {
      const file = join(tempDir(), 'tokens.yaml')
      writeFileSync(file, text)
      return file
    }
    const token = (name: string, prefixes?: string) =>
      `  - { name: ${name}, sha256: ${sha256(name)}, role: writer${prefixes ? `, prefixes: [${prefixes}]` : ''} }`

    it('when a JWT subject is the name of a token, then it exits with 2 and one line naming both places', async () => {
      const file = withFile(`tokens:\n${token('deployer')}\nsubjects:\n  - { sub: deployer, role: admin }\n`)
      const exit = await runUntilExit(runtime, { DATABASE_URL: 'sqlite::memory:', API_TOKENS_FILE: file })
      expect(exit.code).toBe(2)
      expect(exit.stderr).toEqual([
        `invalid setting API_TOKENS_FILE: ${file}: /subjects/0/sub: is also the name at /tokens/0: one actor for two callers`,
      ])
    })

    it('when a subject is named unknown, then it exits with 2 and one line saying it is reserved', async () => {
      const file = withFile('subjects:\n  - { sub: unknown, role: reader }\n')
      const exit = await runUntilExit(runtime, { DATABASE_URL: 'sqlite::memory:', API_TOKENS_FILE: file })
      expect(exit.code).toBe(2)
      expect(exit.stderr).toEqual([`invalid setting API_TOKENS_FILE: ${file}: /subjects/0/sub: is reserved`])
    })

    it("when a token's prefix also covers another token's, then it starts with one warning line per such token", async () => {
      const file = withFile(`tokens:\n${token('a', 'team-a')}\n${token('b', 'team-b')}\n${token('ab', 'team-ab')}\n`)
      const server = await startServer({ runtime, env: { API_TOKENS_FILE: file, SEED: 'false' } })
      try {
        const warnings = (server.lines as Record<string, unknown>[]).filter((l) =>
          String(l.msg).startsWith("API_TOKENS_FILE: a prefix also grants other entries' prefixes"),
        )
        expect(warnings).toEqual([
          expect.objectContaining({ level: 'warn', actor: 'a', prefixes: ['team-a'], covered: ['team-ab'] }),
        ])
      } finally {
        await server.stop()
      }
    })
  },
)
