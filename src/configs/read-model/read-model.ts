/**
 * Every stored config in memory, as a store's change feed leaves it: each with its revision and
 * its JSON text (what a read answers with), names in dcname order for paging, and an index from
 * each filterable leaf (`metadata.a.b` = value, see filter-leaves.ts) to the names that have it,
 * so that a search costs what it returns rather than what is stored.
 *
 * Parsed configs are not kept: the text is what reads need, and parsed objects would take
 * several times its memory. It is pure data: what feeds it and when reads may trust it is the
 * business of cached-store.ts.
 */
import type { ChangeEvent, Filter, ListQuery, StoredConfig } from '../config-store.ts'
import type { Config } from '../model.ts'
import { leavesOf } from './filter-leaves.ts'
import { SortedNames } from './sorted-names.ts'

/** A config as the read model holds it; `config` is parsed from the text on each use. */
export class CachedConfig implements StoredConfig {
  constructor(
    readonly dcname: string,
    readonly json: string,
    readonly revision: number,
  ) {}

  get config(): Config {
    return JSON.parse(this.json) as Config
  }
}

export interface CachedPage {
  items: CachedConfig[]
  more: boolean
}

export class ReadModel {
  private readonly entries = new Map<string, CachedConfig>()
  /** Every name, sorted as the stores sort them. */
  private readonly names = new SortedNames()
  /** `path\0value` of a leaf -> the names of the configs that have it. */
  private readonly index = new Map<string, SortedNames>()
  /** Every write up to this revision is reflected here. */
  revision: number

  constructor(revision = 0) {
    this.revision = revision
  }

  get size(): number {
    return this.entries.size
  }

  get(dcname: string): CachedConfig | undefined {
    return this.entries.get(dcname)
  }

  /**
   * Takes one stored config of an initial load. Loads come in dcname order (a list's pages), so
   * each name is appended; anything else goes through the sorted insert.
   */
  load(stored: StoredConfig): void {
    const { config, revision } = stored
    const name = config.dcname
    if (this.entries.has(name)) {
      this.put(config, revision)
      return
    }
    this.entries.set(name, new CachedConfig(name, stored.json ?? JSON.stringify(config), revision))
    this.names.append(name)
    for (const key of leafKeys(config)) {
      let names = this.index.get(key)
      if (names === undefined) {
        names = new SortedNames()
        this.index.set(key, names)
      }
      names.append(name)
    }
  }

  /** Every change up to `revision` is applied, the last ones having had no event (schema writes). */
  advanceTo(revision: number): void {
    if (revision > this.revision) this.revision = revision
  }

  /**
   * One committed change. A change the model already reflects (an entry at its revision or a
   * later one) is skipped: a load and the feed that follows it may overlap.
   */
  apply(event: ChangeEvent): void {
    const name = event.config.dcname
    const current = this.entries.get(name)
    if (current === undefined || current.revision < event.revision) {
      if (event.type === 'DELETED') this.remove(name)
      else this.put(event.config, event.revision, event.json)
    }
    if (event.revision > this.revision) this.revision = event.revision
  }

  /**
   * A page of the configs matching every filter, in dcname order, after `query.after`, inside
   * `query.prefixes` (when given) as the stores scope a list: paging holds inside the scope.
   */
  list(query: ListQuery): CachedPage {
    const items: CachedConfig[] = []
    const plan = this.plan(query.filters)
    if (plan !== undefined) {
      const { candidates, probes } = plan
      const take = (name: string) => {
        if (probes.every((names) => names.has(name))) items.push(this.entries.get(name) as CachedConfig)
        return items.length <= query.limit
      }
      if (query.prefixes === undefined) candidates.forEachAfter(query.after, take)
      else {
        // The names with one prefix sort together, from the prefix itself on; disjoint prefixes
        // in order give their names in order, so the blocks are walked one after the other.
        for (const prefix of disjointPrefixes(query.prefixes)) {
          const after = query.after
          const inside = (name: string) => name.startsWith(prefix) && take(name)
          if (after !== undefined && after >= prefix) candidates.forEachFrom(after, false, inside)
          else candidates.forEachFrom(prefix, true, inside)
          if (items.length > query.limit) break
        }
      }
    }
    const more = items.length > query.limit
    if (more) items.pop()
    return { items, more }
  }

  /**
   * The names to walk (the smallest set some filter allows) and the sets each of them must also
   * be in; undefined when some filter allows nothing. A dcname filter allows at most one name;
   * a leaf filter, the names holding that leaf.
   */
  private plan(filters: readonly Filter[]): { candidates: SortedNames; probes: SortedNames[] } | undefined {
    if (filters.length === 0) return { candidates: this.names, probes: [] }
    const sets: SortedNames[] = []
    for (const filter of filters) {
      let names: SortedNames | undefined
      if (filter.path.length === 1 && filter.path[0] === 'dcname') {
        if (this.entries.has(filter.value)) {
          names = new SortedNames()
          names.append(filter.value)
        }
      } else {
        names = this.index.get(`${filter.path.join('.')}\u0000${filter.value}`)
      }
      if (names === undefined) return undefined
      sets.push(names)
    }
    sets.sort((a, b) => a.size - b.size)
    const [candidates, ...probes] = sets as [SortedNames, ...SortedNames[]]
    return { candidates, probes }
  }

  private put(config: Config, revision: number, json = JSON.stringify(config)): void {
    const name = config.dcname
    const previous = this.entries.get(name)
    this.entries.set(name, new CachedConfig(name, json, revision))
    const next = leafKeys(config)
    if (previous === undefined) {
      this.names.add(name)
      for (const key of next) this.addToIndex(key, name)
      return
    }
    // Only the leaves that changed move: a write that keeps a field keeps its index entry.
    const before = new Set(leafKeys(previous.config))
    const after = new Set(next)
    for (const key of before) if (!after.has(key)) this.removeFromIndex(key, name)
    for (const key of after) if (!before.has(key)) this.addToIndex(key, name)
  }

  private remove(name: string): void {
    const previous = this.entries.get(name)
    if (previous === undefined) return
    this.entries.delete(name)
    this.names.delete(name)
    for (const key of leafKeys(previous.config)) this.removeFromIndex(key, name)
  }

  private addToIndex(key: string, name: string): void {
    let names = this.index.get(key)
    if (names === undefined) {
      names = new SortedNames()
      this.index.set(key, names)
    }
    names.add(name)
  }

  private removeFromIndex(key: string, name: string): void {
    const names = this.index.get(key)
    if (names === undefined) return
    names.delete(name)
    if (names.size === 0) this.index.delete(key)
  }
}

/**
 * The prefixes in name order, without those another one in the list already covers (a prefix of
 * them): what remains names disjoint blocks of names.
 */
function disjointPrefixes(prefixes: readonly string[]): string[] {
  const sorted = [...new Set(prefixes)].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))
  const kept: string[] = []
  for (const prefix of sorted) {
    const last = kept.at(-1)
    if (last === undefined || !prefix.startsWith(last)) kept.push(prefix)
  }
  return kept
}

/**
 * The index keys of a config's leaves. A path holding a NUL could pose as another path and
 * value in the key; no filter can name such a key anyway, so it is left out.
 */
function leafKeys(config: Config): string[] {
  const keys: string[] = []
  for (const [path, value] of leavesOf(config)) if (!path.includes('\u0000')) keys.push(`${path}\u0000${value}`)
  return keys
}
