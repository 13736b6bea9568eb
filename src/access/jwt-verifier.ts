/**
 * OIDC and Kubernetes service-account JWTs, verified with jose against the issuer's JWKS:
 * signature, `iss`, `aud`, `exp` and `nbf` (with a small clock tolerance), asymmetric
 * algorithms only, so neither `alg: none` nor an HMAC keyed with a public key can pass.
 *
 * The JWKS URL is OIDC_JWKS_URL or the `jwks_uri` of `<issuer>/.well-known/openid-configuration`.
 * Discovery does not hold up start-up: the static tokens work without the issuer, and an API
 * server that is briefly away should not crash-loop this service. Until the keys are known, and
 * while they cannot be fetched, a JWT gets a 503 (it may well be valid; a 401 would tell its
 * client to throw it away), and discovery is retried in the background with a growing pause.
 *
 * Keys are cached (jose's createRemoteJWKSet); a token with an unknown `kid` refetches them at
 * most once per cooldown, which is how a rotated key is picked up without a restart. A failed
 * fetch pauses fetching for a while too, so a flood of bad tokens cannot hammer the issuer.
 */
import { setTimeout } from 'node:timers'
import { createRemoteJWKSet, errors, type JWTVerifyGetKey, jwtVerify } from 'jose'
import { AuthenticationUnavailableError, UnauthenticatedError } from '../configs/access.ts'

const ASYMMETRIC_ALGORITHMS = [
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
  'ES256',
  'ES384',
  'ES512',
  'EdDSA',
  'Ed25519',
]

export interface JwtSettings {
  issuer: string
  audience: string
  /** Given: used as is, no discovery. */
  jwksUrl?: string
}

export interface JwtTuning {
  /** Least time between two key fetches caused by unknown `kid`s. */
  cooldownMs?: number
  /** Pause after a failed key fetch or discovery before the next try (doubling up to 30 s for discovery). */
  retryMs?: number
  /** Timeout of one HTTP request to the issuer. */
  timeoutMs?: number
  /** Seconds of clock skew tolerated on `exp` and `nbf`. */
  clockToleranceSec?: number
}

export interface JwtEvents {
  onKeysLocated?: (jwksUrl: string) => void
  onDiscoveryFailed?: (message: string, retryInMs: number) => void
}

const MAX_DISCOVERY_PAUSE_MS = 30_000

export class JwtVerifier {
  #keys: JWTVerifyGetKey | undefined
  #fetchPausedUntil = 0
  #retryTimer: ReturnType<typeof setTimeout> | undefined
  #stopped = false
  readonly #tuning: Required<JwtTuning>

  constructor(
    private readonly settings: JwtSettings,
    private readonly events: JwtEvents = {},
    tuning: JwtTuning = {},
  ) {
    this.#tuning = { cooldownMs: 30_000, retryMs: 1000, timeoutMs: 5000, clockToleranceSec: 30, ...tuning }
  }

  /** Locates the keys (discovering them when needed), retrying in the background; never throws. */
  async start(): Promise<void> {
    if (this.settings.jwksUrl !== undefined) return this.#useKeys(this.settings.jwksUrl)
    let pause = this.#tuning.retryMs
    const attempt = async (): Promise<void> => {
      if (this.#stopped) return
      try {
        this.#useKeys(await this.#discover())
      } catch (error) {
        this.events.onDiscoveryFailed?.(error instanceof Error ? error.message : String(error), pause)
        this.#retryTimer = setTimeout(attempt, pause).unref()
        pause = Math.min(pause * 2, MAX_DISCOVERY_PAUSE_MS)
      }
    }
    await attempt()
  }

  stop(): void {
    this.#stopped = true
    if (this.#retryTimer) clearTimeout(this.#retryTimer)
  }

  /** The token's `sub` when it verifies; UnauthenticatedError when not, unavailable when unsure. */
  async verify(token: string): Promise<string> {
    const keys = this.#keys
    if (keys === undefined) throw new AuthenticationUnavailableError('the keys of the OIDC issuer are not known yet')
    try {
      const { payload } = await jwtVerify(token, keys, {
        issuer: this.settings.issuer,
        audience: this.settings.audience,
        algorithms: ASYMMETRIC_ALGORITHMS,
        clockTolerance: this.#tuning.clockToleranceSec,
        requiredClaims: ['exp', 'sub'],
      })
      // An empty sub names nobody; jose only checks that the claim is there.
      if (typeof payload.sub !== 'string' || payload.sub === '')
        throw new errors.JWTClaimValidationFailed('', payload, 'sub')
      return payload.sub
    } catch (error) {
      if (error instanceof AuthenticationUnavailableError) throw error
      throw new UnauthenticatedError(true, whyRefused(error))
    }
  }

  #useKeys(url: string): void {
    const remote = createRemoteJWKSet(new URL(url), {
      cooldownDuration: this.#tuning.cooldownMs,
      timeoutDuration: this.#tuning.timeoutMs,
    })
    this.#keys = async (header, token) => {
      if (Date.now() < this.#fetchPausedUntil && !remote.fresh) {
        throw new AuthenticationUnavailableError('the keys of the OIDC issuer cannot be fetched now')
      }
      try {
        return await remote(header, token)
      } catch (error) {
        if (!isFetchFailure(error)) throw error
        this.#fetchPausedUntil = Date.now() + this.#tuning.retryMs
        throw new AuthenticationUnavailableError('the keys of the OIDC issuer cannot be fetched', { cause: error })
      }
    }
    this.events.onKeysLocated?.(url)
  }

  async #discover(): Promise<string> {
    const url = `${this.settings.issuer.replace(/\/+$/, '')}/.well-known/openid-configuration`
    let response: Response
    try {
      response = await fetch(url, {
        headers: { accept: 'application/json' },
        signal: AbortSignal.timeout(this.#tuning.timeoutMs),
      })
    } catch (error) {
      throw new Error(`${url}: ${error instanceof Error ? error.message : String(error)}`)
    }
    if (response.status !== 200) throw new Error(`${url}: HTTP ${response.status}`)
    const document = (await response.json().catch(() => undefined)) as { jwks_uri?: unknown } | undefined
    const jwksUri = document?.jwks_uri
    if (typeof jwksUri !== 'string' || !URL.canParse(jwksUri)) throw new Error(`${url}: no valid jwks_uri in it`)
    return jwksUri
  }
}

/** A failure to get the key set at all (network, timeout, bad answer), as opposed to a bad token. */
function isFetchFailure(error: unknown): boolean {
  if (!(error instanceof errors.JOSEError)) return true
  return error instanceof errors.JWKSTimeout || error instanceof errors.JWKSInvalid || error.code === 'ERR_JOSE_GENERIC'
}

/** Why a token was refused, for the problem's detail: about the token, never quoting it. */
function whyRefused(error: unknown): string {
  if (error instanceof errors.JWTExpired) return 'the bearer token has expired'
  if (error instanceof errors.JWTClaimValidationFailed) {
    return error.claim === 'nbf'
      ? 'the bearer token is not valid yet'
      : `the bearer token's ${error.claim} is not accepted`
  }
  if (error instanceof errors.JOSEAlgNotAllowed) return "the bearer token's algorithm is not accepted"
  if (error instanceof errors.JWKSNoMatchingKey) return 'the bearer token is signed with an unknown key'
  if (error instanceof errors.JWSSignatureVerificationFailed) return "the bearer token's signature does not verify"
  return 'the bearer token is not valid'
}
