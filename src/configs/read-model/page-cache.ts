/**
 * Pages of the read model kept as the bytes a list or search answers with, until the next
 * write: clients that poll the same list or search (agents watching their team's configs,
 * dashboards) get bytes made once, instead of joining and encoding a hundred configs' JSON for
 * every request. A page is encoded only when a reader asks for its bytes (a watch's start
 * lists without them). Bounded by bytes held; any write (a new model revision) drops them all.
 */
import type { ListPage, ListQuery } from '../config-store.ts'
import type { CachedConfig, ReadModel } from './read-model.ts'

/** Pages larger than this are not kept: they are rare, and would crowd out the rest. */
const MAX_PAGE_BYTES = 1024 * 1024
const MAX_HELD_BYTES = 16 * 1024 * 1024
const MAX_PAGES = 512

const encoder = new TextEncoder()

class ModelPage implements ListPage {
  private encoded: Uint8Array<ArrayBuffer> | undefined

  constructor(
    readonly items: CachedConfig[],
    readonly more: boolean,
    readonly revision: number,
    private readonly onEncoded: (bytes: number) => void,
  ) {}

  get body(): Uint8Array<ArrayBuffer> {
    if (this.encoded === undefined) {
      let json = '['
      for (let i = 0; i < this.items.length; i++) json += (i === 0 ? '' : ',') + (this.items[i] as CachedConfig).json
      this.encoded = encoder.encode(`${json}]`)
      this.onEncoded(this.encoded.length)
    }
    return this.encoded
  }
}

export class PageCache {
  private pages = new Map<string, ModelPage>()
  private revision = -1
  private heldBytes = 0

  list(model: ReadModel, query: ListQuery): ListPage {
    if (model.revision !== this.revision) this.clear(model.revision)
    const key = keyOf(query)
    const held = this.pages.get(key)
    if (held !== undefined) return held
    const { items, more } = model.list(query)
    const revision = model.revision
    const page = new ModelPage(items, more, revision, (bytes) => this.encoded(key, page, revision, bytes))
    if (this.pages.size < MAX_PAGES) this.pages.set(key, page)
    return page
  }

  /** A held page's bytes were made: count them, and let go of pages that are too big to hold. */
  private encoded(key: string, page: ModelPage, revision: number, bytes: number): void {
    if (revision !== this.revision || this.pages.get(key) !== page) return
    if (bytes > MAX_PAGE_BYTES || this.heldBytes + bytes > MAX_HELD_BYTES) this.pages.delete(key)
    else this.heldBytes += bytes
  }

  private clear(revision: number): void {
    this.pages = new Map()
    this.revision = revision
    this.heldBytes = 0
  }
}

function keyOf(query: ListQuery): string {
  // The caller's scope first, as JSON text (which escapes control characters): a filter value
  // that holds the separator can never make a page of one scope pass for one of another.
  const scope = query.prefixes === undefined ? '' : JSON.stringify(query.prefixes)
  let key = `${scope}\u0001${query.limit}\u0001${query.after ?? ''}`
  for (const filter of query.filters) key += `\u0001${filter.path.join('.')}\u0000${filter.value}`
  return key
}
