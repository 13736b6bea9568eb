import { describe, expect, it } from 'bun:test'
import { ExpositionError, parseExposition, sampleValue } from './exposition-parser.ts'

const histogram = (buckets: string, sum = '1.5', count = '3') =>
  [
    '# HELP d Durations.',
    '# TYPE d histogram',
    ...buckets.split(' ').map((pair) => {
      const [le, value] = pair.split(':')
      return `d_bucket{route="/a",le="${le}"} ${value}`
    }),
    `d_sum{route="/a"} ${sum}`,
    `d_count{route="/a"} ${count}`,
    '',
  ].join('\n')

describe('the exposition parser', () => {
  it('when the text is well formed, then it reads help, types, escaped labels, special values and timestamps', () => {
    const families = parseExposition(
      [
        '# HELP c A counter with a \\\\ and a \\n in its help.',
        '# TYPE c counter',
        'c{path="a\\"b\\\\c\\nd",x="1",} 3 1700000000000',
        '',
        '# an ordinary comment',
        '# TYPE g gauge',
        'g NaN',
        'g{k="v"} +Inf',
        'g{k="w"} -1.5e-3',
        '',
      ].join('\n'),
    )
    expect(families.get('c')?.help).toBe('A counter with a \\ and a \n in its help.')
    expect(families.get('c')?.samples[0]).toEqual({
      name: 'c',
      labels: { path: 'a"b\\c\nd', x: '1' },
      value: 3,
      timestamp: 1700000000000,
    })
    expect(sampleValue(families, 'g')).toBeNaN()
    expect(sampleValue(families, 'g', { k: 'v' })).toBe(Number.POSITIVE_INFINITY)
    expect(sampleValue(families, 'g', { k: 'w' })).toBe(-0.0015)
  })

  it('when a histogram adds up, then it parses', () => {
    expect(parseExposition(histogram('0.1:1 1:2 +Inf:3')).get('d')?.samples).toHaveLength(5)
  })

  for (const [problem, text] of [
    ['a value that is no number', 'c 1x\n'],
    ["prom-client's Nan spelling", 'c Nan\n'],
    ['an unknown escape in a label value', 'c{a="\\t"} 1\n'],
    ['an unterminated label value', 'c{a="x} 1\n'],
    ['a label given twice', 'c{a="1",a="2"} 1\n'],
    ['a missing value', 'c{a="1"}\n'],
    ['a timestamp that is no integer', 'c 1 1.5\n'],
    ['a duplicate series', 'c{a="1"} 1\nc{a="1"} 2\n'],
    ['a family split in two', '# TYPE a gauge\na 1\n# TYPE b gauge\nb 1\na{x="1"} 2\n'],
    ['a TYPE after samples', 'a 1\n# TYPE a gauge\n'],
    ['an unknown type', '# TYPE a thing\n'],
    ['a negative counter', '# TYPE a counter\na -1\n'],
    ['no final newline', 'a 1'],
    ['buckets that are not cumulative', histogram('0.1:2 1:1 +Inf:3')],
    ['a histogram without +Inf', histogram('0.1:1 1:3')],
    ['a count that differs from +Inf', histogram('0.1:1 1:2 +Inf:3', '1', '4')],
  ] as const) {
    it(`when the text has ${problem}, then it is refused`, () => {
      expect(() => parseExposition(text)).toThrow(ExpositionError)
    })
  }
})
