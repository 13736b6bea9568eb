/**
 * The actor of each history entry is the caller access control names: `anonymous` when no
 * credential is configured, `api-token` for API_TOKEN, a named token's name, a JWT's `sub`, on a
 * real service process with every kind of credential at once (and one with none).
 */
import { afterAll, beforeAll, describe, expect, it, setDefaultTimeout } from 'bun:test'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { type RunningServer, startServer, tempDir } from '../support/server.ts'
import { AUDIENCE, makeKey, type SigningKey, TestIssuer } from './issuer.ts'
import { eventually, sha256 } from './support.ts'

setDefaultTimeout(60_000)

const API_TOKEN = 'api-token-history-6c1d'
const NAMED = 'named-token-history-2f9a'
const DEPLOYER = 'system:serviceaccount:payments:deployer'

let issuer: TestIssuer
let key: SigningKey
let guarded: RunningServer
let open: RunningServer

beforeAll(async () => {
  issuer = new TestIssuer()
  key = await makeKey('k1')
  issuer.published = [key]
  const file = join(tempDir(), 'tokens.yaml')
  writeFileSync(
    file,
    `tokens:
  - { name: ci-payments, sha256: ${sha256(NAMED)}, role: writer }
subjects:
  - { sub: "${DEPLOYER}", role: writer }
`,
  )
  ;[guarded, open] = await Promise.all([
    startServer({
      env: { SEED: 'false', API_TOKEN, API_TOKENS_FILE: file, OIDC_ISSUER_URL: issuer.url, OIDC_AUDIENCE: AUDIENCE },
    }),
    startServer({ env: { SEED: 'false' } }),
  ])
  await eventually('discovery', () =>
    guarded.lines.find((l) => (l as { msg?: string }).msg?.startsWith('OIDC: verifying')),
  )
})

afterAll(async () => {
  await Promise.all([guarded?.stop(), open?.stop()])
  issuer?.stop()
})

async function patch(base: string, dcname: string, n: number, token?: string) {
  const response = await fetch(`${base}/configs/${dcname}`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify({ metadata: { n } }),
  })
  expect(response.status).toBeLessThan(300)
}

const actors = async (base: string, dcname: string) => {
  const response = await fetch(`${base}/configs/${dcname}/history`)
  return ((await response.json()) as { actor: string }[]).map((entry) => entry.actor).reverse()
}

describe('the actor of history entries', () => {
  it('when API_TOKEN, a named token and a JWT write in turn, then each entry names that caller, never a secret', async () => {
    const jwt = await issuer.token(key, DEPLOYER)
    await patch(guarded.url, 'actors', 1, API_TOKEN)
    await patch(guarded.url, 'actors', 2, NAMED)
    await patch(guarded.url, 'actors', 3, jwt)
    const rollback = await fetch(`${guarded.url}/configs/actors/rollback`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${NAMED}` },
      body: JSON.stringify({ revision: 1 }),
    })
    expect(rollback.status).toBe(200)
    expect(await actors(guarded.url, 'actors')).toEqual(['api-token', 'ci-payments', DEPLOYER, 'ci-payments'])
    const text = await (await fetch(`${guarded.url}/configs/actors/history`)).text()
    for (const secret of [API_TOKEN, NAMED, jwt]) expect(text).not.toContain(secret)
  })

  it('when no credential is configured, then writes are open and their actor is anonymous', async () => {
    await patch(open.url, 'actors', 1)
    await patch(open.url, 'actors', 2, 'a-token-nobody-configured')
    expect(await actors(open.url, 'actors')).toEqual(['anonymous', 'anonymous'])
  })
})
