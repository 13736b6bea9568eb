/**
 * The console's calls to the API: JSON in and out, the token as a bearer header, and every
 * error as an ApiError carrying the problem+json body, so pages can show its detail and place
 * its field errors.
 */

/**
 * @typedef {{ dcname: string, metadata: Record<string, unknown> }} Config
 * @typedef {{ pointer: string, message: string, keyword?: string }} FieldError
 * @typedef {{ dcname: string, violations: FieldError[] }} Violator a config that breaks a schema
 * @typedef {{
 *   type?: string, title?: string, status: number, detail?: string, errors?: FieldError[],
 *   violators?: Violator[], total?: number,
 * }} Problem `violators` and `total`: a schema change that configs break (422 schema-violators)
 * @typedef {{ name: string, prefix: string, mode: 'enforce' | 'warn', schema: Record<string, unknown>, revision: number }} Schema
 * @typedef {{ status: number, body: any, headers: Headers }} ApiResponse
 * @typedef {{ method?: string, body?: unknown, ifMatch?: string, ifNoneMatch?: string, signal?: AbortSignal }} ApiOptions
 */

/** The tab's session storage: the token lives as long as the tab and never reaches a URL. */
const TOKEN_KEY = 'config-service.token'

export function getToken() {
  return sessionStorage.getItem(TOKEN_KEY) ?? ''
}

/** @param {string} token an empty one forgets it */
export function setToken(token) {
  if (token) sessionStorage.setItem(TOKEN_KEY, token)
  else sessionStorage.removeItem(TOKEN_KEY)
}

/** @returns {Record<string, string>} */
export function authHeaders() {
  const token = getToken()
  return token ? { authorization: `Bearer ${token}` } : {}
}

export class ApiError extends Error {
  /** @param {Problem} problem */
  constructor(problem) {
    super(problem.detail || problem.title || `HTTP ${problem.status}`)
    this.status = problem.status
    this.problem = problem
  }
}

/** @type {Set<(error: ApiError) => void>} */
const unauthorizedListeners = new Set()
/** @type {Set<(renewed: boolean) => void>} */
const tokenWaiters = new Set()
const WRITES = new Set(['POST', 'PUT', 'PATCH', 'DELETE'])

/**
 * Told of every 401, so the page can ask for a token wherever the call was made.
 * @param {(error: ApiError) => void} listener
 */
export function onUnauthorized(listener) {
  unauthorizedListeners.add(listener)
  return () => unauthorizedListeners.delete(listener)
}

/**
 * The token dialog was closed: with a new token (`changed`), the writes that a 401 stopped are
 * sent again with it; without, they fail with their 401. Reads are not waited for: the pages
 * load again when the token changes.
 * @param {boolean} changed
 */
export function tokenAnswered(changed) {
  const renewed = changed && getToken() !== ''
  const waiting = [...tokenWaiters]
  tokenWaiters.clear()
  for (const resolve of waiting) resolve(renewed)
}

/** @returns {Promise<boolean>} whether a new token was given */
function nextToken() {
  return new Promise((resolve) => tokenWaiters.add(resolve))
}

/**
 * @param {string} path
 * @param {ApiOptions} [options]
 * @returns {Promise<ApiResponse>}
 */
export async function api(path, options = {}) {
  /** @type {Record<string, string>} */
  const headers = { accept: 'application/json', ...authHeaders() }
  if (options.body !== undefined) headers['content-type'] = 'application/json'
  if (options.ifMatch) headers['if-match'] = options.ifMatch
  if (options.ifNoneMatch) headers['if-none-match'] = options.ifNoneMatch
  /** @type {Response} */
  let response
  try {
    response = await fetch(path, {
      method: options.method ?? 'GET',
      headers,
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
      signal: options.signal,
    })
  } catch (error) {
    if (options.signal?.aborted) throw error
    throw new ApiError({ status: 0, title: 'No answer', detail: 'the service could not be reached' })
  }
  const text = await response.text()
  let body = null
  if (text) {
    try {
      body = JSON.parse(text)
    } catch {
      body = text
    }
  }
  if (!response.ok && response.status !== 304) {
    const problem =
      body && typeof body === 'object'
        ? /** @type {Problem} */ (body)
        : { status: response.status, title: response.statusText, detail: String(body ?? '') }
    const error = new ApiError({ ...problem, status: response.status })
    if (response.status === 401) {
      const asked = WRITES.has(options.method ?? 'GET') ? nextToken() : undefined
      for (const listener of unauthorizedListeners) listener(error)
      // Each retry waits for the person to enter a token again, so it cannot loop by itself.
      if (asked && (await asked)) return api(path, options)
    }
    throw error
  }
  return { status: response.status, body, headers: response.headers }
}

/**
 * The revision in an `ETag: "<revision>"` header.
 * @param {Headers} headers
 */
export function revisionOf(headers) {
  const match = /^(?:W\/)?"(\d+)"$/.exec(headers.get('etag') ?? '')
  return match ? Number(match[1]) : undefined
}

/**
 * What a `Warning: 299 - "<text>"` header says (a warn-mode schema let a breaking write through),
 * for a person: the quoted text unescaped; '' when there is none.
 * @param {Headers} headers
 */
export function warningOf(headers) {
  const header = headers.get('warning') ?? ''
  const quoted = /^\d{3} \S+ "((?:[^"\\]|\\.)*)"/.exec(header)
  return quoted?.[1] ? `Warning: ${quoted[1].replace(/\\(.)/g, '$1')}.` : header
}

/** @param {number} revision */
export function etagOf(revision) {
  return `"${revision}"`
}

/** @param {string} dcname */
export function configPath(dcname) {
  return `/configs/${encodeURIComponent(dcname)}`
}

/** @param {string} name */
export function schemaPath(name) {
  return `/schemas/${encodeURIComponent(name)}`
}

/** What a 401 means here, for the token dialog. */
export const UNAUTHORIZED =
  '401 Unauthorized: this needs a token, and the request had none or one the service does not know. Enter a token.'

/**
 * One line for a person: the status, its meaning and the service's own detail (a 403 names
 * the actor, its role or its prefixes; a 400 what was refused).
 * @param {unknown} error
 */
export function describeError(error) {
  if (!(error instanceof ApiError)) return error instanceof Error ? error.message : String(error)
  if (error.status === 0) return 'The service could not be reached. Check the connection and try again.'
  const detail = error.problem.detail ? `: ${error.problem.detail}` : ''
  if (error.status === 401) return `401 Unauthorized${detail}. Enter a token with the Token button.`
  if (error.status === 403) return `403 Forbidden${detail}.`
  return `${error.status} ${error.problem.title ?? ''}: ${error.message}`
}

/**
 * The URL of `rel="next"` in a Link header, if any.
 * @param {Headers} headers
 */
export function nextLink(headers) {
  for (const part of (headers.get('link') ?? '').split(',')) {
    const match = /<([^>]*)>\s*;\s*rel="?next"?/.exec(part)
    if (match) return match[1]
  }
  return undefined
}
