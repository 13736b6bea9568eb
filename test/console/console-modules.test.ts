/**
 * The console's pure modules, run by Bun as the browser runs them: the line diff, and the
 * pretty-printer that knows the line of every JSON Pointer (which places the API's field errors).
 */
import { describe, expect, it } from 'bun:test'
import { diffLines } from '../../src/console/diff.js'
import { lineOfPointer, prettyJson, syntaxErrorLine } from '../../src/console/json-lines.js'

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
