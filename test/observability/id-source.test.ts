/**
 * The ids made per request from a random prefix and a counter: unique within a process, across
 * sources (as across processes), and across the counter's wrap, and always valid W3C trace and
 * span ids and UUID-shaped request ids.
 */
import { describe, expect, it } from 'bun:test'
import { IdSource } from '../../src/observability/id-source.ts'

const TRACE_ID = /^(?!0{32})[0-9a-f]{32}$/
const SPAN_ID = /^(?!0{16})[0-9a-f]{16}$/
const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/

describe('IdSource', () => {
  it('when 100,000 ids of each kind are made by two sources, then all are valid and none repeats', () => {
    const sources = [new IdSource(), new IdSource()]
    const traces = new Set<string>()
    const spans = new Set<string>()
    const requests = new Set<string>()
    for (let i = 0; i < 100_000; i++) {
      for (const source of sources) {
        const trace = source.traceId()
        const span = source.spanId()
        const request = source.requestId()
        if (!TRACE_ID.test(trace) || !SPAN_ID.test(span) || !UUID_V4.test(request)) {
          throw new Error(`invalid id: ${trace} ${span} ${request}`)
        }
        traces.add(trace)
        spans.add(span)
        requests.add(request)
      }
    }
    expect(traces.size).toBe(200_000)
    expect(spans.size).toBe(200_000)
    expect(requests.size).toBe(200_000)
  })

  it('when the counter wraps, then a new prefix is drawn and the ids stay valid and new', () => {
    const source = new IdSource()
    const before = [source.traceId(), source.spanId(), source.requestId()]
    // The counter as it stands just before its 32-bit limit.
    ;(source as unknown as { counter: number }).counter = 2 ** 32 - 1
    const after = [source.traceId(), source.spanId(), source.requestId()]
    expect(after[0]).toMatch(TRACE_ID)
    expect(after[1]).toMatch(SPAN_ID)
    expect(after[2]).toMatch(UUID_V4)
    expect(after[0]?.slice(0, 24)).not.toBe(before[0]?.slice(0, 24))
    expect(after[0]?.slice(24)).toBe('00000001')
  })
})
