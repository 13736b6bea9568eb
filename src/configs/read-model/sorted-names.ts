/**
 * A sorted set of names in chunks of at most a few hundred: adding or removing one moves the
 * names of one chunk, not of the whole set, so a write into a leaf that 100,000 configs share
 * costs what a write into a small one does (one sorted array of 100,000 made each insert move
 * all the names after it). Names sort by UTF-16 code unit, which for dcnames is bytewise, as
 * the stores sort them.
 */
const MAX_CHUNK = 512

export class SortedNames {
  private chunks: string[][] = []
  private count = 0

  get size(): number {
    return this.count
  }

  /** Appends a name that sorts after every name held (a load in dcname order); else adds it. */
  append(name: string): void {
    const last = this.chunks.at(-1)
    const greatest = last?.at(-1)
    if (greatest !== undefined && greatest >= name) {
      this.add(name)
      return
    }
    if (last === undefined || last.length >= MAX_CHUNK) this.chunks.push([name])
    else last.push(name)
    this.count++
  }

  add(name: string): void {
    if (this.chunks.length === 0) {
      this.chunks.push([name])
      this.count = 1
      return
    }
    const c = Math.min(this.chunkFor(name), this.chunks.length - 1)
    const chunk = this.chunks[c] as string[]
    const i = lowerBound(chunk, name)
    if (chunk[i] === name) return
    chunk.splice(i, 0, name)
    this.count++
    if (chunk.length > MAX_CHUNK * 2) this.chunks.splice(c, 1, chunk.slice(0, MAX_CHUNK), chunk.slice(MAX_CHUNK))
  }

  delete(name: string): void {
    const c = this.chunkFor(name)
    const chunk = this.chunks[c]
    if (chunk === undefined) return
    const i = lowerBound(chunk, name)
    if (chunk[i] !== name) return
    chunk.splice(i, 1)
    this.count--
    if (chunk.length === 0) this.chunks.splice(c, 1)
  }

  has(name: string): boolean {
    const chunk = this.chunks[this.chunkFor(name)]
    return chunk !== undefined && chunk[lowerBound(chunk, name)] === name
  }

  /**
   * Calls `visit` with each name after `after` (all, when undefined), in order, until it
   * returns false.
   */
  forEachAfter(after: string | undefined, visit: (name: string) => boolean): void {
    if (after === undefined) this.walk(0, 0, visit)
    else this.forEachFrom(after, false, visit)
  }

  /**
   * Calls `visit` with each name from `start` on (`start` itself only when `inclusive`), in
   * order, until it returns false.
   */
  forEachFrom(start: string, inclusive: boolean, visit: (name: string) => boolean): void {
    const c = this.chunkFor(start)
    const chunk = this.chunks[c]
    if (chunk === undefined) return
    let i = lowerBound(chunk, start)
    if (!inclusive && chunk[i] === start) i++
    this.walk(c, i, visit)
  }

  private walk(c: number, i: number, visit: (name: string) => boolean): void {
    for (; c < this.chunks.length; c++, i = 0) {
      const chunk = this.chunks[c] as string[]
      for (; i < chunk.length; i++) if (!visit(chunk[i] as string)) return
    }
  }

  /** The chunk that holds `name` or would: the first whose greatest name is not smaller. */
  private chunkFor(name: string): number {
    let low = 0
    let high = this.chunks.length
    while (low < high) {
      const mid = (low + high) >>> 1
      const chunk = this.chunks[mid] as string[]
      if ((chunk[chunk.length - 1] as string) < name) low = mid + 1
      else high = mid
    }
    return low
  }
}

/** The first index whose name sorts at or after `name`. */
function lowerBound(names: readonly string[], name: string): number {
  let low = 0
  let high = names.length
  while (low < high) {
    const mid = (low + high) >>> 1
    if ((names[mid] as string) < name) low = mid + 1
    else high = mid
  }
  return low
}
