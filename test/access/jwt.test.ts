/**
 * OIDC / Kubernetes service-account JWTs against a real issuer (a loopback HTTP server with
 * keys made by jose), through the whole service: discovery, every way a token can be wrong,
 * key rotation without a restart, bounded fetching under a flood of bad tokens, and an issuer
 * that is away. In-process (app.handle) with short pauses; test/access/access-process.test.ts
 * runs JWTs against real Bun and Deno processes.
 */
import { afterAll, beforeAll, describe, expect, it, setDefaultTimeout } from 'bun:test'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { JwtVerifier } from '../../src/access/jwt-verifier.ts'
import { AuthenticationUnavailableError, UnauthenticatedError } from '../../src/configs/access.ts'
import { inProcessService } from '../observability/in-process.ts'
import { tempDir } from '../support/server.ts'
import { AUDIENCE, hmacWithPublicKey, makeKey, type SigningKey, TestIssuer, unsignedToken } from './issuer.ts'
import { eventually } from './support.ts'

setDefaultTimeout(60_000)

const DEPLOYER = 'system:serviceaccount:payments:deployer'
const VIEWER = 'system:serviceaccount:payments:viewer'
const UNLISTED = 'system:serviceaccount:other:default'
/** The service's key-fetch cooldown in this file (30 s in production). */
const COOLDOWN_MS = 300

let issuer: TestIssuer
let key: SigningKey
let service: Awaited<ReturnType<typeof inProcessService>>

beforeAll(async () => {
  issuer = new TestIssuer()
  key = await makeKey('key-1')
  issuer.published = [key]
  const file = join(tempDir(), 'tokens.yaml')
  writeFileSync(
    file,
    `subjects:\n  - sub: ${DEPLOYER}\n    role: writer\n    prefixes: [payments-]\n  - sub: ${VIEWER}\n    role: reader\n`,
  )
  service = await inProcessService(
    { SEED: 'false', API_TOKENS_FILE: file, OIDC_ISSUER_URL: issuer.url, OIDC_AUDIENCE: AUDIENCE },
    { jwt: { cooldownMs: COOLDOWN_MS, retryMs: 200 } },
  )
  await eventually('discovery', () => service.lines.find((line) => line.msg === 'OIDC: verifying JWTs with these keys'))
})

afterAll(async () => {
  await service?.close()
  issuer?.stop()
})

const send = async (method: string, path: string, token: string, body?: unknown) => {
  const response = await service.request(path, {
    method,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  })
  const text = await response.text()
  return { status: response.status, headers: response.headers, body: text ? JSON.parse(text) : undefined }
}

const now = () => Math.floor(Date.now() / 1000)

describe('JWTs from the OIDC issuer', () => {
  it('when the issuer is configured, then its keys are found through discovery', () => {
    expect(issuer.discoveryRequests).toBe(1)
    expect(service.lines.find((line) => line.msg === 'OIDC: verifying JWTs with these keys')).toMatchObject({
      jwksUrl: `${issuer.url}/openid/v1/jwks`,
    })
  })

  it('when a valid JWT of a listed sub writes inside its prefixes, then it may, and outside them it is 403', async () => {
    const token = await issuer.token(key, DEPLOYER)
    expect((await send('POST', '/configs', token, { dcname: 'payments-eu', metadata: {} })).status).toBe(201)
    expect((await send('PUT', '/configs/payments-eu', token, { metadata: { a: 1 } })).status).toBe(200)
    const outside = await send('PUT', '/configs/billing-eu', token, { metadata: {} })
    expect(outside.status).toBe(403)
    expect(outside.body.detail).toBe(`${DEPLOYER} may not access "billing-eu": outside its prefixes`)
  })

  it('when a listed sub has the reader role, then it reads and a write is 403', async () => {
    const token = await issuer.token(key, VIEWER)
    expect((await send('GET', '/configs/payments-eu', token)).status).toBe(200)
    expect((await send('DELETE', '/configs/payments-eu', token)).status).toBe(403)
  })

  it('when a valid JWT has a sub the file does not list, then it is 403, not 401', async () => {
    const reply = await send('GET', '/configs', await issuer.token(key, UNLISTED))
    expect(reply.status).toBe(403)
    expect(reply.body.detail).toBe(`the subject "${UNLISTED}" has no role here`)
  })

  it('when a JWT is within the clock tolerance (expired 10 s ago), then it is still accepted', async () => {
    const token = await issuer.token(key, DEPLOYER, { exp: now() - 10, nbf: now() + 10 })
    expect((await send('GET', '/configs', token)).status).toBe(200)
  })

  const refused: [string, () => Promise<string>, string][] = [
    ['expired', () => issuer.token(key, DEPLOYER, { exp: now() - 120 }), 'the bearer token has expired'],
    ['not yet valid', () => issuer.token(key, DEPLOYER, { nbf: now() + 120 }), 'the bearer token is not valid yet'],
    [
      'for another audience',
      () => issuer.token(key, DEPLOYER, { aud: 'other-service' }),
      "the bearer token's aud is not accepted",
    ],
    [
      'from another issuer',
      () => issuer.token(key, DEPLOYER, { iss: 'https://evil.example' }),
      "the bearer token's iss is not accepted",
    ],
    ['without exp', () => issuer.token(key, DEPLOYER, { exp: undefined }), "the bearer token's exp is not accepted"],
    ['without sub', () => issuer.token(key, ''), "the bearer token's sub is not accepted"],
    [
      'signed by another key under the same kid',
      async () => issuer.token(await makeKey('key-1'), DEPLOYER),
      "the bearer token's signature does not verify",
    ],
    [
      'unsigned (alg: none)',
      async () => unsignedToken({ iss: issuer.url, aud: AUDIENCE, sub: DEPLOYER, exp: now() + 300 }, 'key-1'),
      "the bearer token's algorithm is not accepted",
    ],
    [
      'HS256 with the public key as the secret',
      () => hmacWithPublicKey(key, { iss: issuer.url, aud: AUDIENCE, sub: DEPLOYER, exp: now() + 300 }),
      "the bearer token's algorithm is not accepted",
    ],
    ['a JWT-shaped string that is none', async () => 'abc.def.ghi', 'the bearer token is not valid'],
  ]
  it.each(refused)(
    'when a JWT is %s, then it is 401 invalid_token and nothing is written',
    async (_what, make, detail) => {
      const reply = await send('POST', '/configs', await make(), { dcname: 'payments-refused', metadata: {} })
      expect(reply.status).toBe(401)
      expect(reply.headers.get('www-authenticate')).toBe('Bearer realm="config-service", error="invalid_token"')
      expect(reply.body.detail).toBe(detail)
      expect((await service.request('/configs/payments-refused')).status).toBe(404)
    },
  )

  it('when a token is signed by a key the JWKS lacks, then it is 401; once the issuer publishes that key, it works without a restart', async () => {
    const rotated = await makeKey('key-2', 'ES256')
    const token = await issuer.token(rotated, DEPLOYER)
    await Bun.sleep(COOLDOWN_MS)
    const before = await send('GET', '/configs', token)
    expect(before.status).toBe(401)
    expect(before.body.detail).toBe('the bearer token is signed with an unknown key')

    issuer.published = [key, rotated]
    await Bun.sleep(COOLDOWN_MS)
    expect((await send('GET', '/configs', token)).status).toBe(200)
    expect((await send('GET', '/configs', await issuer.token(key, DEPLOYER))).status).toBe(200)
  })

  it('when a flood of tokens with unknown kids arrives, then the keys are fetched at most once per cooldown', async () => {
    await Bun.sleep(COOLDOWN_MS)
    const fetchesBefore = issuer.keyRequests
    const started = Date.now()
    const replies = await Promise.all(
      Array.from({ length: 200 }, async (_, i) =>
        send('GET', '/configs', await issuer.token(await makeKey(`bogus-${i}`, 'ES256'), DEPLOYER)),
      ),
    )
    const cooldowns = Math.ceil((Date.now() - started) / COOLDOWN_MS)
    expect(replies.every((reply) => reply.status === 401)).toBe(true)
    expect(issuer.keyRequests - fetchesBefore).toBeLessThanOrEqual(cooldowns)
  })
})

describe('an issuer that is away', () => {
  it('when discovery fails at start-up, then JWTs get 503 while it is retried in the background, and work once it answers', async () => {
    const away = new TestIssuer()
    const awayKey = await makeKey('k')
    away.published = [awayKey]
    away.failWith = 503
    const failures: string[] = []
    const verifier = new JwtVerifier(
      { issuer: away.url, audience: AUDIENCE },
      { onDiscoveryFailed: (problem) => failures.push(problem) },
      { retryMs: 100 },
    )
    try {
      await verifier.start()
      const token = await away.token(awayKey, DEPLOYER)
      await expect(verifier.verify(token)).rejects.toBeInstanceOf(AuthenticationUnavailableError)
      expect(failures[0]).toBe(`${away.url}/.well-known/openid-configuration: HTTP 503`)
      away.failWith = undefined
      await eventually(
        'discovery to succeed',
        async () => (await verifier.verify(token).catch(() => undefined)) ?? undefined,
      )
      expect(away.discoveryRequests).toBeGreaterThanOrEqual(2)
    } finally {
      verifier.stop()
      away.stop()
    }
  })

  it('when the keys cannot be fetched, then verification is unavailable (503), and a flood makes one fetch per pause', async () => {
    const away = new TestIssuer()
    const awayKey = await makeKey('k')
    away.failWith = 500
    const verifier = new JwtVerifier(
      { issuer: away.url, audience: AUDIENCE, jwksUrl: `${away.url}/openid/v1/jwks` },
      {},
      { retryMs: 60_000 },
    )
    try {
      await verifier.start()
      const token = await away.token(awayKey, DEPLOYER)
      const outcomes = await Promise.all(
        Array.from({ length: 100 }, () => verifier.verify(token).catch((error) => error)),
      )
      expect(outcomes.every((outcome) => outcome instanceof AuthenticationUnavailableError)).toBe(true)
      for (let i = 0; i < 20; i++) await verifier.verify(token).catch(() => {})
      expect(away.keyRequests).toBe(1)
    } finally {
      verifier.stop()
      away.stop()
    }
  })

  it('when a JWT cannot be checked because the issuer is away, then the answer is a 503 problem with Retry-After', async () => {
    const away = new TestIssuer()
    away.failWith = 503
    const file = join(tempDir(), 'tokens.yaml')
    writeFileSync(file, `subjects:\n  - sub: ${DEPLOYER}\n    role: writer\n`)
    const awayService = await inProcessService(
      { API_TOKENS_FILE: file, OIDC_ISSUER_URL: away.url, OIDC_AUDIENCE: AUDIENCE },
      { jwt: { retryMs: 50 } },
    )
    try {
      const token = await away.token(await makeKey('k'), DEPLOYER)
      const response = await awayService.request('/configs', { headers: { authorization: `Bearer ${token}` } })
      expect(response.status).toBe(503)
      expect(response.headers.get('retry-after')).toBe('5')
      expect(((await response.json()) as { type: string }).type).toBe(
        'urn:config-service:problem:authentication-unavailable',
      )
      // The answer may come before the failed discovery is logged (it is still in flight then).
      const logged = () =>
        awayService.lines.find((line) => line.msg === 'OIDC: discovery failed; JWTs get 503 until it succeeds')
      for (let waited = 0; !logged() && waited < 5000; waited += 20) await Bun.sleep(20)
      expect(logged()).toMatchObject({ level: 'warn' })
      // Anonymous reads do not depend on the issuer.
      expect((await awayService.request('/configs')).status).toBe(200)
    } finally {
      await awayService.close()
      away.stop()
    }
  })

  it('when the verifier meets a token of an unknown shape, then it refuses it as unauthenticated', async () => {
    const verifier = new JwtVerifier({
      issuer: issuer.url,
      audience: AUDIENCE,
      jwksUrl: `${issuer.url}/openid/v1/jwks`,
    })
    await verifier.start()
    await expect(verifier.verify('a.b.c')).rejects.toBeInstanceOf(UnauthenticatedError)
    verifier.stop()
  })
})
