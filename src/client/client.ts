/**
 * A typed client of the config API, built with Eden Treaty from the server's own type (`App`),
 * so a route's parameters, body and answers are checked against the server when this compiles.
 * Only the type is imported: a program using the client bundles none of the server.
 *
 *   const client = createClient({ url: 'http://localhost:4999', token: process.env.TOKEN })
 *   const { config, revision } = await client.get('datacenter-1')
 *
 * Every failure is thrown: the service's problem+json as a ProblemError (status, title,
 * detail, errors), or UnreachableError when nothing answered. Given `app` instead of `url`,
 * requests go straight to the app's handler, with no network (tests).
 */
import { treaty } from '@elysiajs/eden'
import type { App, ServiceApp } from '../app.ts'
import type { HistoryEntry } from '../configs/config-store.ts'
import type { Config } from '../configs/model.ts'
import { ConsumerClient } from './consumers.ts'
import { ProblemError, UnreachableError } from './problem-error.ts'
import {
  type Answer,
  type ConfigClientCore,
  type Filters,
  IN_PROCESS_URL,
  type ListOptions,
  nextCursor,
  type Page,
  type Paging,
  pagingQuery,
  revisionOf,
} from './requests.ts'
import { SchemaClient } from './schemas.ts'
import { type WatchItem, type WatchOptions, watchConfigs } from './watch.ts'

export type { Config, HistoryEntry }

export interface ClientOptions {
  /** The service, e.g. `http://localhost:4999`. */
  url?: string
  /** Or the app itself: requests are handed to `app.handle` (its front door), with no network. */
  app?: Pick<ServiceApp, 'handle'>
  /** Sent as `Authorization: Bearer <token>`. */
  token?: string
}

/** A config and the revision of the write that made it (its ETag). */
export interface StoredConfig {
  config: Config
  revision: number
}

export interface HistoryPage {
  /** Newest first. */
  entries: HistoryEntry[]
  next?: string
}

export interface WriteOptions {
  /** Write only if the stored revision is this one (`If-Match`); `*`: it must exist. */
  ifMatch?: number | '*'
  /** `?dryRun=true`: the service runs the write whole (access, schema) and stores nothing. */
  dryRun?: boolean
}

export interface ReplaceOptions extends WriteOptions {
  /** `*`: only create (`If-None-Match: *`). */
  ifNoneMatch?: '*'
}

/** `fetch` for Eden, in process: requests go to the app's front door, as they would over the network. */
function inProcessFetch(app: Pick<ServiceApp, 'handle'>): typeof fetch {
  const send = (input: RequestInfo | URL, init?: RequestInit) => app.handle(new Request(input, init))
  // Bun's fetch has one more member; there is nothing to connect to ahead in process.
  return Object.assign(send, { preconnect: () => {} })
}

export class ConfigClient implements ConfigClientCore {
  /** The Eden Treaty client, for anything the methods below do not cover. */
  readonly api: ReturnType<typeof treaty<App>>
  readonly baseUrl: string
  private readonly authorization: Record<string, string>
  private readonly send: (request: Request) => Promise<Response>

  constructor(options: ClientOptions) {
    if (options.app === undefined && options.url === undefined)
      throw new TypeError('createClient needs a url or an app')
    this.baseUrl = options.app ? IN_PROCESS_URL : (options.url as string).replace(/\/+$/, '')
    this.authorization = options.token ? { authorization: `Bearer ${options.token}` } : {}
    const app = options.app
    this.send = app ? (request) => app.handle(request) : (request) => fetch(request)
    // parseDate: false, or Eden would turn any date-like string of a config's metadata into a Date.
    const config = { parseDate: false, headers: this.authorization }
    this.api = treaty<App>(this.baseUrl, app ? { ...config, fetcher: inProcessFetch(app) } : config)
  }

  /** One page of `GET /configs` (sorted by dcname). */
  async list(filters: Filters = {}, options: ListOptions = {}): Promise<Page> {
    return this.page(await this.api.configs.get({ query: { ...filters, ...listQuery(options) } }))
  }

  /** One page of `GET /search`: the same filters, prefix and paging as `list`. */
  async search(filters: Filters, options: ListOptions = {}): Promise<Page> {
    return this.page(await this.api.search.get({ query: { ...filters, ...listQuery(options) } }))
  }

  /** Every page of `list`; `revision` is the first page's. */
  async listAll(
    filters: Filters = {},
    options: Pick<ListOptions, 'prefix'> = {},
  ): Promise<{ configs: Config[]; revision: number }> {
    const prefix = options.prefix === undefined ? {} : { prefix: options.prefix }
    const first = await this.list(filters, prefix)
    const configs = [...first.configs]
    for (let next = first.next; next !== undefined; ) {
      const page = await this.list(filters, { ...prefix, cursor: next })
      configs.push(...page.configs)
      next = page.next
    }
    return { configs, revision: first.revision }
  }

  /** The config now, or with `revision` as it stood at that store revision (history). */
  async get(dcname: string, at: { revision?: number } = {}): Promise<StoredConfig> {
    const query = at.revision === undefined ? {} : { revision: String(at.revision) }
    return this.stored(await this.api.configs({ dcname }).get({ query }))
  }

  async create(config: Config): Promise<StoredConfig> {
    return this.stored(await this.api.configs.post(config))
  }

  /** PUT: replaces, or creates (`created`). */
  async replace(config: Config, options: ReplaceOptions = {}): Promise<StoredConfig & { created: boolean }> {
    const headers = preconditionHeaders(options)
    const answer = await this.api
      .configs({ dcname: config.dcname })
      .put(config, { headers, query: dryRunQuery(options) })
    return { ...this.stored(answer), created: answer.status === 201 }
  }

  /** A JSON Merge Patch (RFC 7396): `null` removes a key. */
  async patch(dcname: string, patch: Record<string, unknown>, options: WriteOptions = {}): Promise<StoredConfig> {
    const headers = { ...preconditionHeaders(options), 'content-type': 'application/merge-patch+json' }
    return this.stored(await this.api.configs({ dcname }).patch(patch, { headers, query: dryRunQuery(options) }))
  }

  async delete(dcname: string, options: WriteOptions = {}): Promise<void> {
    const query = dryRunQuery(options)
    this.unwrap(await this.api.configs({ dcname }).delete(undefined, { headers: preconditionHeaders(options), query }))
  }

  /** One page of a config's history, newest first. */
  async history(dcname: string, paging: Paging = {}): Promise<HistoryPage> {
    const answer = await this.api.configs({ dcname }).history.get({ query: pagingQuery(paging) })
    const response = this.unwrap(answer)
    return { entries: answer.data as HistoryEntry[], next: nextCursor(response.headers) }
  }

  /** Every page of a config's history, newest first. */
  async historyAll(dcname: string): Promise<HistoryEntry[]> {
    const entries: HistoryEntry[] = []
    let next: string | undefined
    do {
      const page = await this.history(dcname, { cursor: next })
      entries.push(...page.entries)
      next = page.next
    } while (next !== undefined)
    return entries
  }

  /** Writes the state of `revision` again as a new revision (`created`: it undeleted the config). */
  async rollback(
    dcname: string,
    revision: number,
    options: WriteOptions = {},
  ): Promise<StoredConfig & { created: boolean }> {
    const headers = preconditionHeaders(options)
    const answer = await this.api.configs({ dcname }).rollback.post({ revision }, { headers })
    return { ...this.stored(answer), created: answer.status === 201 }
  }

  /** Changes as they happen; see watch.ts for resuming, re-listing and ending. */
  watch(options: WatchOptions = {}): AsyncGenerator<WatchItem, void, undefined> {
    return watchConfigs(this, options)
  }

  /**
   * A request outside the typed routes (the watch stream): the same
   * token and the same errors as the rest.
   */
  async request(path: string, init: RequestInit & { headers?: Record<string, string> }): Promise<Response> {
    const url = `${this.baseUrl}${path}`
    let response: Response
    try {
      response = await this.send(new Request(url, { ...init, headers: { ...this.authorization, ...init.headers } }))
    } catch (error) {
      throw new UnreachableError(this.baseUrl, error)
    }
    if (response.ok) return response
    const text = await response.text()
    throw ProblemError.from(response.status, parseJson(text))
  }

  /** Config schemas and consumer reports: see schemas.ts and consumers.ts. */
  get schemas(): SchemaClient {
    return new SchemaClient(this, (answer) => this.unwrap(answer))
  }

  get consumers(): ConsumerClient {
    return new ConsumerClient(this, (answer) => this.unwrap(answer))
  }

  private unwrap(answer: Answer): Response {
    // Eden answers a fetch that threw as a 503 without a response; nothing answered at all.
    if (answer.response === undefined) throw new UnreachableError(this.baseUrl, answer.error?.value)
    if (answer.error) throw ProblemError.from(answer.status, answer.error.value)
    return answer.response
  }

  private stored(answer: Answer): StoredConfig {
    const response = this.unwrap(answer)
    return { config: answer.data as Config, revision: revisionOf(response.headers) }
  }

  private page(answer: Answer): Page {
    const response = this.unwrap(answer)
    return {
      configs: answer.data as Config[],
      revision: Number(response.headers.get('x-revision') ?? 0),
      next: nextCursor(response.headers),
    }
  }
}

export function createClient(options: ClientOptions): ConfigClient {
  return new ConfigClient(options)
}

function listQuery(options: ListOptions): Record<string, string> {
  const query = pagingQuery(options)
  if (options.prefix !== undefined) query.prefix = options.prefix
  return query
}

function dryRunQuery(options: WriteOptions): Record<string, string> {
  return options.dryRun ? { dryRun: 'true' } : {}
}

function preconditionHeaders(options: ReplaceOptions): Record<string, string> {
  const headers: Record<string, string> = {}
  if (options.ifMatch !== undefined) headers['if-match'] = options.ifMatch === '*' ? '*' : `"${options.ifMatch}"`
  if (options.ifNoneMatch !== undefined) headers['if-none-match'] = options.ifNoneMatch
  return headers
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text)
  } catch {
    return text
  }
}
