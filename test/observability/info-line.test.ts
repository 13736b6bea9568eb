import { describe, expect, it } from 'bun:test'
import { createLogger, infoLineWriter } from '../../src/observability/logger.ts'

function capture(level: 'info' | 'warn' = 'info') {
  const lines: string[] = []
  const logger = createLogger(level, { write: (line) => lines.push(line), flush: (done) => done?.() })
  return { logger, lines }
}

const withoutTime = (line: string) => line.replace(/"time":"[^"]+"/, '"time":"T"')

describe('infoLineWriter', () => {
  it('when it writes fields, then the line is byte for byte what logger.info writes for them, but for the time', () => {
    const { logger, lines } = capture()
    const fields = { method: 'GET', path: '/a "quoted"\n\\path', status: 200, duration_ms: 0.25, request_id: 'r-1' }
    logger.info(fields, 'request')
    infoLineWriter(logger)(JSON.stringify(fields).slice(1, -1), 'request')
    expect(lines).toHaveLength(2)
    expect(withoutTime(lines[1] ?? '')).toBe(withoutTime(lines[0] ?? ''))
    expect(lines[1]).toEndWith('\n')
  })

  it('when the level is above info, then nothing is written', () => {
    const { logger, lines } = capture('warn')
    infoLineWriter(logger)('"a":1', 'request')
    expect(lines).toEqual([])
  })
})
