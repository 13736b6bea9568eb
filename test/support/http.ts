/**
 * The black-box HTTP target: a running server at TEST_BASE_URL (which must run with
 * API_TOKEN=$TEST_API_TOKEN), or else a fresh server process started here (Bun, or Deno with
 * TEST_RUNTIME=deno). Tests speak plain fetch to it.
 */
import { type RunningServer, startServer } from './server.ts'

export interface Target {
  base: string
  token: string
  server?: RunningServer
  close(): Promise<void>
}

export async function httpTarget(env: Record<string, string> = {}): Promise<Target> {
  const external = process.env.TEST_BASE_URL
  if (external) {
    const token = process.env.TEST_API_TOKEN
    if (!token) throw new Error('TEST_BASE_URL needs TEST_API_TOKEN (the API_TOKEN the target runs with)')
    return { base: external.replace(/\/$/, ''), token, close: async () => {} }
  }
  const token = `test-token-${crypto.randomUUID()}`
  const server = await startServer({ env: { API_TOKEN: token, ...env } })
  return { base: server.url, token, server, close: async () => void (await server.stop()) }
}

export interface Reply {
  status: number
  headers: Headers
  text: string
  // biome-ignore lint/suspicious/noExplicitAny: tests look into arbitrary JSON
  json: any
}

export interface RequestOptions {
  body?: unknown
  /** Sent as is, with no content type added. */
  raw?: RequestInit['body']
  headers?: Record<string, string>
  /** Writes carry the bearer token unless this is false. */
  auth?: boolean
}

export function client(target: Target) {
  return async function request(method: string, path: string, options: RequestOptions = {}): Promise<Reply> {
    const headers: Record<string, string> = {}
    if (options.body !== undefined) headers['content-type'] = 'application/json'
    if (options.auth !== false && method !== 'GET' && method !== 'HEAD')
      headers.authorization = `Bearer ${target.token}`
    Object.assign(headers, options.headers)
    const body = options.raw ?? (options.body === undefined ? undefined : JSON.stringify(options.body))
    const response = await fetch(`${target.base}${path}`, { method, headers, body, redirect: 'manual' })
    const text = await response.text()
    let json: unknown
    try {
      json = text === '' ? undefined : JSON.parse(text)
    } catch {
      json = undefined
    }
    return { status: response.status, headers: response.headers, text, json }
  }
}

/** A prefix that keeps one run's configs apart from anything else on a shared target. */
export function uniquePrefix(): string {
  return `t${Date.now().toString(36)}${Math.floor(Math.random() * 1e6).toString(36)}`
}

export function expectProblem(reply: Reply, status: number): void {
  const problem = reply.json
  const ok =
    reply.status === status &&
    reply.headers.get('content-type')?.startsWith('application/problem+json') &&
    problem?.status === status &&
    typeof problem.type === 'string' &&
    typeof problem.title === 'string' &&
    typeof problem.detail === 'string'
  if (!ok) {
    throw new Error(
      `expected a ${status} problem+json, got ${reply.status} ${reply.headers.get('content-type')}: ${reply.text.slice(0, 500)}`,
    )
  }
}

/** Revisions travel as `"<n>"`. */
export function revisionOf(reply: Reply): number {
  const tag = reply.headers.get('etag')
  const match = tag ? /^"(\d+)"$/.exec(tag) : null
  if (!match) throw new Error(`no revision ETag in ${tag}`)
  return Number(match[1])
}
