/**
 * The console's three-way merge (src/console/merge.js), run by Bun as the browser runs it: what
 * an edit that lost a race to another write becomes when it is applied on the newer revision.
 */
import { describe, expect, it } from 'bun:test'
import { mergeThreeWay, pointerOf, resolveConflicts, sameJson } from '../../src/console/merge.js'

// biome-ignore lint/suspicious/noExplicitAny: JSON documents, changed and read freely by the tests
type Json = Record<string, any>

const BASE: Json = {
  dcname: 'dc-1',
  metadata: { team: 'alpha', owner: 'ann', monitoring: { enabled: true }, limits: { cpu: { value: '1' } } },
}

/** BASE with `change` applied to a deep copy of its metadata. */
function edited(change: (metadata: Json) => void): Json {
  const copy = structuredClone(BASE)
  change(copy.metadata)
  return copy
}

describe('mergeThreeWay', () => {
  it('when each side changed a different key, then both changes are in the result and nothing conflicts', () => {
    const mine = edited((m) => {
      m.owner = 'me'
    })
    const theirs = edited((m) => {
      m.team = 'beta'
    })
    expect(mergeThreeWay(BASE, mine, theirs)).toEqual({
      value: edited((m) => {
        m.team = 'beta'
        m.owner = 'me'
      }),
      conflicts: [],
    })
  })

  it('when each side changed a different key of a nested object, then the nested object is merged key by key', () => {
    const mine = edited((m) => {
      m.limits.cpu.enabled = true
    })
    const theirs = edited((m) => {
      m.limits.cpu.value = '2'
      m.limits.memory = { value: '1Gi' }
    })
    const { value, conflicts } = mergeThreeWay(BASE, mine, theirs)
    expect(conflicts).toEqual([])
    expect((value as Json).metadata.limits).toEqual({
      cpu: { value: '2', enabled: true },
      memory: { value: '1Gi' },
    })
  })

  it('when both sides changed the same key to different values, then it is a conflict holding all three values', () => {
    const mine = edited((m) => {
      m.limits.cpu.value = '3'
    })
    const theirs = edited((m) => {
      m.limits.cpu.value = '2'
    })
    const result = mergeThreeWay(BASE, mine, theirs)
    expect(result.conflicts).toEqual([
      { path: ['metadata', 'limits', 'cpu', 'value'], base: '1', mine: '3', theirs: '2' },
    ])
    expect(pointerOf(result.conflicts[0]?.path ?? [])).toBe('/metadata/limits/cpu/value')
  })

  it('when both sides made the same change, then it is taken once, without a conflict', () => {
    const both = edited((m) => {
      m.team = 'gamma'
    })
    expect(mergeThreeWay(BASE, both, structuredClone(both))).toEqual({ value: both, conflicts: [] })
  })

  it('when an array changed on one side, then that array is taken whole', () => {
    const base = { tags: ['a', 'b'], other: 1 }
    expect(mergeThreeWay(base, { tags: ['a', 'b', 'c'], other: 1 }, { tags: ['a', 'b'], other: 2 })).toEqual({
      value: { tags: ['a', 'b', 'c'], other: 2 },
      conflicts: [],
    })
  })

  it('when both sides changed an array differently, then the array is one conflict, not merged item by item', () => {
    const { conflicts } = mergeThreeWay({ tags: ['a'] }, { tags: ['a', 'mine'] }, { tags: ['a', 'theirs'] })
    expect(conflicts).toEqual([{ path: ['tags'], base: ['a'], mine: ['a', 'mine'], theirs: ['a', 'theirs'] }])
  })

  it('when I deleted a key they left alone, then it is deleted', () => {
    const mine = edited((m) => {
      delete m.owner
    })
    const theirs = edited((m) => {
      m.team = 'beta'
    })
    const { value, conflicts } = mergeThreeWay(BASE, mine, theirs)
    expect(conflicts).toEqual([])
    expect((value as Json).metadata).toEqual({
      team: 'beta',
      monitoring: { enabled: true },
      limits: { cpu: { value: '1' } },
    })
  })

  it('when they deleted a key I left alone, then it stays deleted', () => {
    const mine = edited((m) => {
      m.team = 'mine'
    })
    const theirs = edited((m) => {
      delete m.limits
    })
    expect(mergeThreeWay(BASE, mine, theirs).value).toEqual({
      dcname: 'dc-1',
      metadata: { team: 'mine', owner: 'ann', monitoring: { enabled: true } },
    })
  })

  it('when one side deleted a key the other changed, then it is a conflict whose deleted side is undefined', () => {
    const mine = edited((m) => {
      m.limits.cpu.value = '4'
    })
    const theirs = edited((m) => {
      delete m.limits
    })
    expect(mergeThreeWay(BASE, mine, theirs).conflicts).toEqual([
      { path: ['metadata', 'limits'], base: BASE.metadata.limits, mine: { cpu: { value: '4' } }, theirs: undefined },
    ])
  })

  it('when both sides added the same new key differently, then it is a conflict with no base value', () => {
    const mine = edited((m) => {
      m.region = 'eu'
    })
    const theirs = edited((m) => {
      m.region = 'us'
    })
    expect(mergeThreeWay(BASE, mine, theirs).conflicts).toEqual([
      { path: ['metadata', 'region'], base: undefined, mine: 'eu', theirs: 'us' },
    ])
  })
})

describe('resolveConflicts', () => {
  const mine = edited((m) => {
    m.team = 'mine'
    delete m.owner
    m.monitoring.enabled = false
  })
  const theirs = edited((m) => {
    m.team = 'theirs'
    m.owner = 'bob'
    m.limits.cpu.value = '2'
  })
  const result = mergeThreeWay(BASE, mine, theirs)

  it('when mine is chosen for each conflict, then my values (and my deletions) replace theirs there, and the rest stays merged', () => {
    expect(result.conflicts.map((c) => pointerOf(c.path))).toEqual(['/metadata/team', '/metadata/owner'])
    expect(resolveConflicts(result, ['mine', 'mine'])).toEqual({
      dcname: 'dc-1',
      metadata: { team: 'mine', monitoring: { enabled: false }, limits: { cpu: { value: '2' } } },
    })
  })

  it('when theirs is chosen for a conflict, then their value is kept there', () => {
    const resolved = resolveConflicts(result, ['theirs', 'mine']) as Json
    expect(resolved.metadata.team).toBe('theirs')
    expect(Object.hasOwn(resolved.metadata, 'owner')).toBe(false)
  })

  it('when conflicts are resolved, then the merge result itself is left as it was (it can be resolved again)', () => {
    const before = structuredClone(result.value)
    resolveConflicts(result, ['mine', 'mine'])
    expect(result.value).toEqual(before)
  })
})

describe('sameJson', () => {
  it('when two objects differ only in key order, then they are the same JSON; an array and an object never are', () => {
    expect(sameJson({ a: 1, b: [1, { c: null }] }, { b: [1, { c: null }], a: 1 })).toBe(true)
    expect(sameJson({ a: 1 }, { a: 1, b: undefined })).toBe(false)
    expect(sameJson([], {})).toBe(false)
    expect(sameJson([1, 2], [2, 1])).toBe(false)
  })
})
