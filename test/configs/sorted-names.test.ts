import { describe, expect, it } from 'bun:test'
import { SortedNames } from '../../src/configs/read-model/sorted-names.ts'

const all = (names: SortedNames, after?: string) => {
  const seen: string[] = []
  names.forEachAfter(after, (name) => seen.push(name) > 0)
  return seen
}

describe('SortedNames', () => {
  it('when thousands of names are added in random order and half removed, then it walks exactly the rest in order, across chunk splits', () => {
    const names = new SortedNames()
    const truth = new Set<string>()
    let seed = 7
    const random = () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31
      return seed
    }
    for (let i = 0; i < 6000; i++) {
      const name = `dc-${random() % 4000}`
      names.add(name)
      truth.add(name)
    }
    for (const name of [...truth].filter((_, i) => i % 2 === 0)) {
      names.delete(name)
      truth.delete(name)
    }
    names.delete('not-there')
    const sorted = [...truth].sort()
    expect(names.size).toBe(sorted.length)
    expect(all(names)).toEqual(sorted)
    expect(all(names, sorted[100])).toEqual(sorted.slice(101))
    expect(all(names, 'dc-2')).toEqual(sorted.filter((name) => name > 'dc-2'))
    expect(all(names, 'zzz')).toEqual([])
    expect(sorted.every((name) => names.has(name))).toBe(true)
    expect(names.has('dc-4001')).toBe(false)
  })

  it('when names are appended in order (a load), then out-of-order ones still land in place, and a walk stops when told', () => {
    const names = new SortedNames()
    for (let i = 0; i < 2000; i++) names.append(`n-${String(i).padStart(5, '0')}`)
    names.append('a-first')
    names.append('n-00000')
    expect(names.size).toBe(2001)
    const seen: string[] = []
    names.forEachAfter(undefined, (name) => seen.push(name) < 3)
    expect(seen).toEqual(['a-first', 'n-00000', 'n-00001'])
  })
})
