import { describe, expect, it } from 'bun:test'
import { isDcname, normalizeConfig, structuralErrors } from '../../src/configs/model.ts'

describe('dcname', () => {
  it.each(['a', 'datacenter-1', 'A.b_c-9', 'x'.repeat(253)])('when it is %p, then it is accepted', (name) => {
    expect(isDcname(name)).toBe(true)
  })
  it.each(['', '-a', 'a-', '.', '..', 'a/b', 'a b', 'dç', 'x'.repeat(254), '_a'])(
    'when it is %p, then it is refused',
    (name) => {
      expect(isDcname(name)).toBe(false)
    },
  )
})

describe('structuralErrors', () => {
  it('when metadata nests 16 levels, then it passes; at 17 it is refused with a pointer', () => {
    const nest = (levels: number) => {
      let value: unknown = 1
      for (let i = 0; i < levels; i++) value = { k: value }
      return value
    }
    expect(structuralErrors({ dcname: 'a', metadata: nest(16) })).toEqual([])
    const errors = structuralErrors({ dcname: 'a', metadata: nest(17) })
    expect(errors).toHaveLength(1)
    expect(errors[0]?.pointer).toBe(`/metadata${'/k'.repeat(16)}`)
  })

  it('when refused keys appear anywhere, then each is reported with an escaped pointer', () => {
    const body = JSON.parse(
      '{"dcname":"a","metadata":{"a/b":{"__proto__":1},"list":[{"constructor":2}]},"prototype":3}',
    )
    expect(
      structuralErrors(body)
        .map((e) => e.pointer)
        .sort(),
    ).toEqual(['/metadata/a~1b/__proto__', '/metadata/list/0/constructor', '/prototype'])
  })
})

describe('normalizeConfig', () => {
  it('when known boolean fields hold "true"/"false", then they become booleans and the rest is kept', () => {
    const config = normalizeConfig({
      dcname: 'a',
      metadata: {
        monitoring: { enabled: 'false', extra: 'true' },
        limits: { cpu: { enabled: 'true', value: '1' } },
        other: 'true',
      },
    })
    expect(config.metadata).toEqual({
      monitoring: { enabled: false, extra: 'true' },
      limits: { cpu: { enabled: true, value: '1' } },
      other: 'true',
    })
  })
})
