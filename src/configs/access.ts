/**
 * Who may do what to which configs: the access policy, pure, with no HTTP and no token format
 * in it. Adapters authenticate a caller (a static token, a JWT) into a Principal; the HTTP layer
 * asks `authorize` before acting and narrows what a caller sees with `visible`.
 */

export const ROLES = ['reader', 'writer', 'admin'] as const
export type Role = (typeof ROLES)[number]

export const READ_ACTIONS = ['list', 'get', 'search', 'watch', 'history', 'read-schemas', 'read-rollouts'] as const
/**
 * `write-schema`: create, replace or delete a config schema, at a prefix the caller must cover.
 * `write-rollout`: start, approve, pause, resume or abort a rollout, whose configs it must cover.
 */
export const WRITE_ACTIONS = [
  'create',
  'replace',
  'patch',
  'delete',
  'rollback',
  'write-schema',
  'write-rollout',
] as const
/**
 * `report`: a consumer says what it did with a revision of a config (consumers.ts). Any role may
 * (an agent runs with a reader's token), but not an anonymous caller of a protected service: a
 * report counts in rollout gates, so its author must be known. It stores no config: no audit line.
 */
export const REPORT_ACTION = 'report'
export type ReadAction = (typeof READ_ACTIONS)[number]
export type WriteAction = (typeof WRITE_ACTIONS)[number]
export type Action = ReadAction | WriteAction | typeof REPORT_ACTION
/** What a request does when its exact action is not known yet (the app-level gate). */
export type AccessKind = 'read' | 'write'

export interface Principal {
  /** Who acts: a token's name, a JWT's `sub`, `api-token` or `anonymous`. Safe to log. */
  actor: string
  role: Role
  /** dcname prefixes this caller is limited to; undefined: every config. */
  prefixes?: readonly string[]
  /** Presented no token: refusing it is a 401 (a token would help), not a 403. */
  anonymous?: boolean
}

/** The actor of requests that carry no token. */
export const ANONYMOUS_ACTOR = 'anonymous'
/** The actor of the single `API_TOKEN`. */
export const API_TOKEN_ACTOR = 'api-token'
/** The actor of a request whose token resolved no principal (not issued, expired, unlisted subject). */
export const UNKNOWN_ACTOR = 'unknown'
/** The actor of the writes of SEED, made at start-up by no request. */
export const SEED_ACTOR = 'seed'
/**
 * The actors the service names itself. No token or JWT subject may take one: history and audit
 * lines could no longer tell who acted.
 */
export const RESERVED_ACTORS: readonly string[] = [ANONYMOUS_ACTOR, API_TOKEN_ACTOR, UNKNOWN_ACTOR, SEED_ACTOR]

export interface AccessRules {
  /** False when no credential of any kind is configured: then anyone may do anything. */
  protected: boolean
  /** Whether a request without a token may read (every config). */
  anonymousRead: boolean
}

/** No or an unusable credential: 401. `presented` tells a missing token from a bad one. */
export class UnauthenticatedError extends Error {
  constructor(
    readonly presented: boolean,
    detail: string,
  ) {
    super(detail)
    this.name = 'UnauthenticatedError'
  }
}

/** A known caller that may not do this: 403. */
export class ForbiddenError extends Error {
  constructor(detail: string) {
    super(detail)
    this.name = 'ForbiddenError'
  }
}

/** Credentials cannot be checked right now (the JWT issuer's keys are unreachable): 503. */
export class AuthenticationUnavailableError extends Error {
  constructor(detail: string, options?: { cause?: unknown }) {
    super(detail, options)
    this.name = 'AuthenticationUnavailableError'
  }
}

/**
 * Who a request without a token is. Unprotected, it may do anything (as before tokens existed);
 * protected, it may read everything when anonymous reads are allowed, else nothing (undefined).
 */
export function anonymousPrincipal(rules: AccessRules): Principal | undefined {
  if (!rules.protected) return { actor: ANONYMOUS_ACTOR, role: 'admin', anonymous: true }
  return rules.anonymousRead ? { actor: ANONYMOUS_ACTOR, role: 'reader', anonymous: true } : undefined
}

export function accessKindOf(action: Action | AccessKind): AccessKind {
  if (action === 'read' || action === 'write') return action
  return (WRITE_ACTIONS as readonly string[]).includes(action) ? 'write' : 'read'
}

export function isWriteAction(action: Action): action is WriteAction {
  return accessKindOf(action) === 'write'
}

function mayWrite(role: Role): boolean {
  return role === 'writer' || role === 'admin'
}

/** Whether `dcname` lies inside the principal's prefixes. */
export function covers(principal: Principal, dcname: string): boolean {
  const { prefixes } = principal
  return prefixes === undefined || prefixes.some((prefix) => dcname.startsWith(prefix))
}

/**
 * Throws unless `principal` may do `action` (to `dcname`, when the action names a config).
 * A caller without a token (undefined where none is accepted, or the anonymous principal) is
 * refused with a 401 rather than a 403, so that the client knows a token would help.
 */
export function authorize(principal: Principal | undefined, action: Action | AccessKind, dcname?: string): void {
  const refuse = (detail: string) =>
    principal === undefined || principal.anonymous
      ? new UnauthenticatedError(false, 'this request needs an Authorization: Bearer token')
      : new ForbiddenError(detail)
  if (principal === undefined) throw refuse('')
  if (action === REPORT_ACTION && principal.anonymous && principal.role !== 'admin') throw refuse('')
  if (accessKindOf(action) === 'write' && !mayWrite(principal.role)) {
    throw refuse(`${principal.actor} has the role ${principal.role}, which may not ${action}`)
  }
  if (dcname !== undefined && !covers(principal, dcname)) {
    throw refuse(`${principal.actor} may not access ${JSON.stringify(dcname)}: outside its prefixes`)
  }
}

/** What a list, search, watch or history shows this principal: the configs inside its prefixes. */
export function visible(principal: Principal): (dcname: string) => boolean {
  return (dcname) => covers(principal, dcname)
}

/**
 * The prefixes a list, search or watch asking for the names starting with `wanted` reads, for a
 * caller limited to `scope` (undefined: every config): their intersection. A scope prefix inside
 * `wanted` stays as it is, `wanted` inside a scope prefix stays as it is, and disjoint ones give
 * nothing: a caller scoped to `team-a-` asking for `team-` reads `team-a-`, and asking for
 * `team-b-` reads nothing (an empty list, not a refusal: it may read what it asked for that it
 * covers, which is none).
 */
export function narrowPrefixes(
  scope: readonly string[] | undefined,
  wanted: string | undefined,
): readonly string[] | undefined {
  if (wanted === undefined) return scope
  if (scope === undefined) return [wanted]
  const narrowed = new Set<string>()
  for (const prefix of scope) {
    if (wanted.startsWith(prefix)) narrowed.add(wanted)
    else if (prefix.startsWith(wanted)) narrowed.add(prefix)
  }
  return [...narrowed]
}

/** The actor written to history and audit lines for a request by `principal`. */
export function actorOf(principal: Principal | undefined): string {
  return principal?.actor ?? ANONYMOUS_ACTOR
}
