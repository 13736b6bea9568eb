/**
 * A real OIDC issuer for tests: Bun.serve on a loopback port serving
 * `/.well-known/openid-configuration` and a JWKS whose keys the test changes (a rotation), with
 * keys and tokens made by jose. It counts the requests for the keys, so a test can see that a
 * flood of bad tokens does not turn into a flood of fetches.
 */
import type { Server } from 'bun'
import { exportJWK, exportSPKI, generateKeyPair, type JWK, type JWTPayload, SignJWT } from 'jose'

export const AUDIENCE = 'config-service'

export interface SigningKey {
  kid: string
  privateKey: CryptoKey
  publicKey: CryptoKey
  jwk: JWK
  alg: string
}

export async function makeKey(kid: string, alg = 'RS256'): Promise<SigningKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true })
  return { kid, privateKey, publicKey, alg, jwk: { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' } }
}

export class TestIssuer {
  readonly server: Server<undefined>
  /** The keys the JWKS lists now. */
  published: SigningKey[] = []
  keyRequests = 0
  discoveryRequests = 0
  /** Answer discovery (and the keys) with this status instead, while set. */
  failWith: number | undefined

  constructor() {
    this.server = Bun.serve({
      port: 0,
      hostname: '127.0.0.1',
      fetch: (request) => {
        const path = new URL(request.url).pathname
        if (path === '/.well-known/openid-configuration') {
          this.discoveryRequests++
          if (this.failWith) return new Response('unavailable', { status: this.failWith })
          return Response.json({ issuer: this.url, jwks_uri: `${this.url}/openid/v1/jwks` })
        }
        if (path === '/openid/v1/jwks') {
          this.keyRequests++
          if (this.failWith) return new Response('unavailable', { status: this.failWith })
          return Response.json({ keys: this.published.map((key) => key.jwk) })
        }
        return new Response('not found', { status: 404 })
      },
    })
  }

  get url(): string {
    return `http://127.0.0.1:${this.server.port}`
  }

  /** A token signed by `key`; claims default to a valid one for `sub` (issuer, audience, 5 min). */
  async token(key: SigningKey, sub: string, claims: JWTPayload = {}, header: Record<string, unknown> = {}) {
    const now = Math.floor(Date.now() / 1000)
    return new SignJWT({ iss: this.url, aud: AUDIENCE, sub, iat: now, exp: now + 300, ...claims })
      .setProtectedHeader({ alg: key.alg, kid: key.kid, typ: 'JWT', ...header })
      .sign(key.privateKey)
  }

  stop(): void {
    this.server.stop(true)
  }
}

/** `alg: none`: a header and a payload, no signature. */
export function unsignedToken(claims: JWTPayload, kid?: string): string {
  const part = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url')
  return `${part({ alg: 'none', typ: 'JWT', ...(kid ? { kid } : {}) })}.${part(claims)}.`
}

/** The classic key confusion: HS256 with the issuer's public key (its PEM) as the HMAC secret. */
export async function hmacWithPublicKey(key: SigningKey, claims: JWTPayload): Promise<string> {
  const pem = await exportSPKI(key.publicKey)
  return new SignJWT(claims).setProtectedHeader({ alg: 'HS256', kid: key.kid }).sign(new TextEncoder().encode(pem))
}
