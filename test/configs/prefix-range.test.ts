import { describe, expect, it } from 'bun:test'
import { prefixRange } from '../../src/configs/config-store.ts'

describe('prefixRange', () => {
  it('when a prefix is turned into a range, then its end is the prefix with its last code point raised', () => {
    expect(prefixRange('pay-')).toEqual({ from: 'pay-', to: 'pay.' })
    expect(prefixRange('a_')).toEqual({ from: 'a_', to: 'a`' })
    expect(prefixRange('x\u{1f600}')).toEqual({ from: 'x\u{1f600}', to: 'x\u{1f601}' })
  })

  it('when the last code point cannot be raised, then the range ends where the shorter prefix ends', () => {
    expect(prefixRange('a\u{10ffff}')).toEqual({ from: 'a\u{10ffff}', to: 'b' })
    expect(prefixRange('\u{10ffff}')).toEqual({ from: '\u{10ffff}' })
    expect(prefixRange('')).toEqual({ from: '' })
    expect(prefixRange('a\ud7ff')).toEqual({ from: 'a\ud7ff', to: 'a\ue000' })
  })
})
