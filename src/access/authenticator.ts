/**
 * A bearer token -> who presents it. The sources, in order: API_TOKEN (an admin whose actor is
 * `api-token`), the named tokens of API_TOKENS_FILE, and, when OIDC is set up, a JWT whose `sub`
 * the file lists under `subjects`. Static tokens are looked up by their SHA-256 hash, compared
 * with every entry in constant time (see findToken).
 */
import { API_TOKEN_ACTOR, ForbiddenError, type Principal, UnauthenticatedError } from '../configs/access.ts'
import type { JwtVerifier } from './jwt-verifier.ts'
import { digestOf, EMPTY_TABLE, findToken, type TokenEntry, type TokenTable } from './token-table.ts'

export interface AuthenticatorSources {
  apiToken?: string
  /** The tokens in force now (they change when the file is reloaded). */
  table?: () => TokenTable
  jwt?: JwtVerifier
}

/** Three dot-separated base64url parts (the last empty for `alg: none`): the shape of a JWS. */
const JWT_SHAPE = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/

export class Authenticator {
  readonly #apiToken: TokenEntry[]
  readonly #table: () => TokenTable
  readonly #jwt: JwtVerifier | undefined
  /** Whether any credential is configured: without one, the service is open to everyone. */
  readonly configured: boolean

  constructor(sources: AuthenticatorSources) {
    this.configured = sources.apiToken !== undefined || sources.table !== undefined || sources.jwt !== undefined
    this.#apiToken =
      sources.apiToken === undefined
        ? []
        : [{ principal: { actor: API_TOKEN_ACTOR, role: 'admin' }, digest: digestOf(sources.apiToken) }]
    this.#table = sources.table ?? (() => EMPTY_TABLE)
    this.#jwt = sources.jwt
  }

  /**
   * The principal of `token`. Throws UnauthenticatedError for a token nobody issued,
   * ForbiddenError for a valid JWT whose subject has no role here, and
   * AuthenticationUnavailableError when the JWT issuer's keys cannot be had now.
   */
  async authenticate(token: string): Promise<Principal> {
    const table = this.#table()
    const digest = digestOf(token)
    // Both lists are always compared in full, so the time says nothing of which one matched.
    const fromApiToken = findToken(this.#apiToken, digest)
    const fromFile = findToken(table.tokens, digest)
    const found = fromApiToken ?? fromFile
    if (found) return found
    if (this.#jwt === undefined || !JWT_SHAPE.test(token)) {
      throw new UnauthenticatedError(true, 'the bearer token is not valid')
    }
    const subject = await this.#jwt.verify(token)
    const principal = this.#table().subjects.get(subject)
    if (principal === undefined) throw new ForbiddenError(`the subject ${JSON.stringify(subject)} has no role here`)
    return principal
  }
}
