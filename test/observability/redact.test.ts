import { describe, expect, it } from 'bun:test'
import { createLogger, redactCredentials } from '../../src/observability/logger.ts'

describe('redactCredentials (the logger formatter)', () => {
  it('when a line carries credentials at the redacted paths, then each is censored', () => {
    expect(
      redactCredentials({
        authorization: 'Bearer a',
        apiToken: 'b',
        req: { authorization: 'c', headers: { authorization: 'd', host: 'h' } },
        headers: { authorization: 'e' },
        status: 200,
      }),
    ).toEqual({
      authorization: '[redacted]',
      apiToken: '[redacted]',
      req: { authorization: '[redacted]', headers: { authorization: '[redacted]', host: 'h' } },
      headers: { authorization: '[redacted]' },
      status: 200,
    })
  })

  it('when it censors, then the object the caller logged is left as it was', () => {
    const logged = { req: { headers: { authorization: 'secret' } } }
    redactCredentials(logged)
    expect(logged.req.headers.authorization).toBe('secret')
  })

  it('when a line has nothing to censor, then it is passed on as is, without a copy', () => {
    const line = { method: 'GET', status: 200, nested: { a: 1 } }
    expect(redactCredentials(line)).toBe(line)
  })

  it('when a logger writes a line with a token, then the written line does not hold it', () => {
    const lines: string[] = []
    const logger = createLogger('info', { write: (line) => lines.push(line), flush: () => {} })
    logger.info({ req: { headers: { authorization: 'Bearer s3cret' } } }, 'oops')
    expect(lines.join('')).not.toContain('s3cret')
    expect(lines.join('')).toContain('[redacted]')
  })
})
