/**
 * The console's pure modules, run by Bun as the browser runs them: the line diff, the
 * pretty-printer that knows the line of every JSON Pointer (which places the API's field errors),
 * what the edit form takes from a config's schema (which one governs, its enums and defaults),
 * the pages' routes and a Warning header as a person reads it.
 */
import { describe, expect, it } from 'bun:test'
import { warningOf } from '../../src/console/api.js'
import { consumersSummary } from '../../src/console/consumers-line.js'
import { diffLines } from '../../src/console/diff.js'
import { lineOfPointer, prettyJson, syntaxErrorLine } from '../../src/console/json-lines.js'
import { routeOf } from '../../src/console/router.js'
import { governingSchema, schemaFields, valueAt, withDefaults, withValueAt } from '../../src/console/schema-fields.js'

const CONFIG = {
  dcname: 'dc-1',
  metadata: {
    monitoring: { enabled: true },
    'a/b~c': [1, { x: null }, []],
    empty: {},
    limits: { cpu: { value: '2' } },
  },
}

describe('prettyJson', () => {
  it('when a value is printed, then the text is exactly JSON.stringify(value, null, 2)', () => {
    for (const value of [CONFIG, [], {}, 'text', 3, null, [[[]]], { a: [{}, { b: [1, 2] }] }]) {
      expect(prettyJson(value).text).toBe(JSON.stringify(value, null, 2))
    }
  })

  it('when a pointer names a member, then its line is the line that member starts on (escapes included)', () => {
    const { text, lineOf } = prettyJson(CONFIG)
    const lines = text.split('\n')
    expect(lines[lineOf.get('/metadata/monitoring/enabled') as number]?.trim()).toBe('"enabled": true')
    expect(lines[lineOf.get('/metadata/a~1b~0c/1/x') as number]?.trim()).toBe('"x": null')
    expect(lines[lineOf.get('/metadata/limits/cpu/value') as number]?.trim()).toBe('"value": "2"')
    expect(lineOf.get('')).toBe(0)
  })

  it('when a pointer names a missing member, then the line of its nearest existing parent is used', () => {
    const { text, lineOf } = prettyJson(CONFIG)
    const line = lineOfPointer(lineOf, '/metadata/limits/cpu/enabled')
    expect(text.split('\n')[line]?.trim()).toBe('"cpu": {')
    expect(lineOfPointer(lineOf, '/nothing')).toBe(0)
  })

  it('when JSON does not parse, then the line of the error is read from the browser parser message', () => {
    const text = '{\n  "dcname": "x",\n  "metadata": {,}\n}'
    // Chromium's (V8's) wording: with a line and column, or with a position only.
    expect(syntaxErrorLine(text, "Expected property name or '}' in JSON at position 35 (line 3 column 16)")).toBe(2)
    expect(syntaxErrorLine(text, "Expected property name or '}' in JSON at position 35")).toBe(2)
    expect(syntaxErrorLine(text, 'Unexpected end of JSON input')).toBeUndefined()
  })
})

describe('diffLines', () => {
  it('when one line changes, then it is one removal and one addition amid unchanged lines', () => {
    const lines = diffLines('a\nb\nc\nd', 'a\nB\nc\nd')
    expect(lines).toEqual([
      { kind: 'same', text: 'a' },
      { kind: 'removed', text: 'b' },
      { kind: 'added', text: 'B' },
      { kind: 'same', text: 'c' },
      { kind: 'same', text: 'd' },
    ])
  })

  it('when lines are inserted and deleted, then the common lines are kept (a longest common subsequence)', () => {
    const lines = diffLines('x\na\nb\nc\ny', 'x\nb\nc\nd\ny')
    expect(lines.filter((line) => line.kind === 'same').map((line) => line.text)).toEqual(['x', 'b', 'c', 'y'])
    expect(lines.filter((line) => line.kind === 'removed').map((line) => line.text)).toEqual(['a'])
    expect(lines.filter((line) => line.kind === 'added').map((line) => line.text)).toEqual(['d'])
  })

  it('when both texts are equal or one is empty, then the diff says so', () => {
    expect(diffLines('a\nb', 'a\nb').every((line) => line.kind === 'same')).toBe(true)
    expect(diffLines('', 'a').map((line) => line.kind)).toEqual(['removed', 'added'])
  })

  it('when the texts are large, then the diff still comes back (and replays one into the other)', () => {
    const before = Array.from({ length: 3000 }, (_, i) => `line ${i}`).join('\n')
    const after = before.replace('line 1500', 'changed').replace('line 10\n', '')
    const lines = diffLines(before, after)
    expect(
      lines
        .filter((line) => line.kind !== 'added')
        .map((line) => line.text)
        .join('\n'),
    ).toBe(before)
    expect(
      lines
        .filter((line) => line.kind !== 'removed')
        .map((line) => line.text)
        .join('\n'),
    ).toBe(after)
    expect(lines.filter((line) => line.kind !== 'same')).toHaveLength(3)
  })
})

describe("a config's schema in the edit form", () => {
  const schema = (name: string, prefix: string) => ({ name, prefix, mode: 'enforce' as const, schema: {}, revision: 1 })

  it('when several prefixes match a dcname, then the longest governs it, and none when none matches', () => {
    const schemas = [schema('all', ''), schema('payments', 'payments-'), schema('eu', 'payments-eu-')]
    expect(governingSchema(schemas, 'payments-eu-1')?.name).toBe('eu')
    expect(governingSchema(schemas, 'payments-us-1')?.name).toBe('payments')
    expect(governingSchema(schemas, 'web-1')?.name).toBe('all')
    expect(governingSchema(schemas.slice(1), 'web-1')).toBeUndefined()
  })

  it('when a schema has enums and defaults, nested and behind a local $ref, then each is found with its pointer into the config', () => {
    const fields = schemaFields({
      properties: {
        tier: { $ref: '#/$defs/tier' },
        plain: { type: 'string' },
        'a/b': { properties: { zone: { enum: [1, 2], default: 1 } } },
      },
      $defs: { tier: { enum: ['gold', 'silver'] } },
    })
    expect(fields).toEqual([
      {
        path: ['metadata', 'tier'],
        pointer: '/metadata/tier',
        enum: ['gold', 'silver'],
        default: undefined,
        hasDefault: false,
      },
      { path: ['metadata', 'a/b', 'zone'], pointer: '/metadata/a~1b/zone', enum: [1, 2], default: 1, hasDefault: true },
    ])
  })

  it('when a $ref refers to itself, then the walk stops at a bounded depth', () => {
    const fields = schemaFields({
      $defs: { node: { default: 0, properties: { next: { $ref: '#/$defs/node' } } } },
      $ref: '#/$defs/node',
    })
    expect(fields.length).toBeGreaterThan(0)
    expect(fields.length).toBeLessThan(10)
  })

  it('when defaults are inserted, then only missing values are added, parents made as needed, nothing else changed', () => {
    const fields = schemaFields({
      properties: {
        replicas: { default: 2 },
        region: { default: 'eu' },
        limits: { properties: { cpu: { default: '1' } } },
      },
    })
    const config = { dcname: 'x', metadata: { replicas: 5 } }
    const { config: next, added } = withDefaults(config, fields)
    expect(next).toEqual({ dcname: 'x', metadata: { replicas: 5, region: 'eu', limits: { cpu: '1' } } })
    expect(added).toEqual(['/metadata/region', '/metadata/limits/cpu'])
    expect(config).toEqual({ dcname: 'x', metadata: { replicas: 5 } })
    expect(valueAt(next, ['metadata', 'limits', 'cpu'])).toBe('1')
    expect(withValueAt({ a: 1 }, ['b', 'c'], null)).toEqual({ a: 1, b: { c: null } })
  })
})

describe('console routes and headers', () => {
  it('when a path is read, then it names the page to draw', () => {
    expect(routeOf('/ui')).toEqual({ page: 'list' })
    expect(routeOf('/ui/configs/a%2Fb')).toEqual({ page: 'config', dcname: 'a/b' })
    expect(routeOf('/ui/schemas')).toEqual({ page: 'schemas' })
    expect(routeOf('/ui/schemas/')).toEqual({ page: 'schemas' })
    expect(routeOf('/ui/schemas/payments')).toEqual({ page: 'schema', name: 'payments' })
  })

  it("when a warn schema's Warning header is read, then its quoted text is given unescaped", () => {
    const headers = new Headers({ warning: '299 - "schema \\"payments\\": /metadata/replicas (maximum)"' })
    expect(warningOf(headers)).toBe('Warning: schema "payments": /metadata/replicas (maximum).')
    expect(warningOf(new Headers())).toBe('')
  })
})

describe('consumersSummary', () => {
  const at = (consumer: string, revision: number, status: 'applied' | 'rejected' | 'expired', message = '') =>
    ({ consumer, revision, state: status === 'expired' ? 'applied' : status, status, message }) as const

  it('when consumers run several revisions, then only live ones at the current revision count, rejections are listed, expired ones counted apart', () => {
    const consumers = [
      at('a', 57, 'applied'),
      at('b', 57, 'applied'),
      at('c', 56, 'applied'),
      at('d', 57, 'rejected', 'bad directive'),
      at('e', 57, 'expired'),
    ]
    const { text, rejected } = consumersSummary(consumers, 57)
    expect(text).toBe('2 of 4 on revision 57, 1 rejected, 1 expired')
    expect(rejected.map((c) => [c.consumer, c.message])).toEqual([['d', 'bad directive']])
    expect(consumersSummary([at('a', 3, 'applied')], 3).text).toBe('1 of 1 on revision 3')
  })

  it('when the rollout pages are asked for, then their routes name them', () => {
    expect(routeOf('/ui/rollouts')).toEqual({ page: 'rollouts' })
    expect(routeOf('/ui/rollouts/')).toEqual({ page: 'rollouts' })
    expect(routeOf('/ui/rollouts/ro-1%2Fx')).toEqual({ page: 'rollout', id: 'ro-1/x' })
  })
})
