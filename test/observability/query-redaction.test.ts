/** Query values are censored in log lines, wherever a line holds a URL; parameter names stay. */
import { describe, expect, it } from 'bun:test'
import { createLogger } from '../../src/observability/logger.ts'
import { redactQueries, redactQueryValues } from '../../src/observability/query-redaction.ts'

describe('redactQueryValues', () => {
  it('when a URL has a query, then every value is censored and every name kept', () => {
    expect(redactQueryValues('http://h:1/configs?access_token=s3cret&limit=5&flag')).toBe(
      'http://h:1/configs?access_token=[redacted]&limit=[redacted]&flag',
    )
  })

  it('when a value holds = (base64 padding), then all of it is censored', () => {
    expect(redactQueryValues('/x?sig=YWJj==&b=1')).toBe('/x?sig=[redacted]&b=[redacted]')
  })

  it('when a URL inside prose has a query, then only the query changes, up to the space, quote or fragment', () => {
    expect(redactQueryValues('GET "/a?t=1" failed; see /b?u=2#frag and /c?v=3 now')).toBe(
      'GET "/a?t=[redacted]" failed; see /b?u=[redacted]#frag and /c?v=[redacted] now',
    )
  })

  it('when a text has a question mark but no query, then it is left as it is', () => {
    const text = 'is this a config? yes=no'
    expect(redactQueryValues(text)).toBe(text)
  })
})

describe('redactQueries (over a log line)', () => {
  it('when a nested field, an array item or a url.query attribute holds a query, then each is censored', () => {
    expect(
      redactQueries({
        url: '/c?t=1',
        span: { attributes: { 'url.query': 'token=2&x=3', 'url.path': '/c' } },
        list: ['/d?k=4', 5],
      }),
    ).toEqual({
      url: '/c?t=[redacted]',
      span: { attributes: { 'url.query': 'token=[redacted]&x=[redacted]', 'url.path': '/c' } },
      list: ['/d?k=[redacted]', 5],
    })
  })

  it('when a line holds no query, then it is passed on as is, without a copy', () => {
    const line = { method: 'GET', status: 200, nested: { path: '/configs', list: [1] } }
    expect(redactQueries(line)).toBe(line)
  })

  it('when it censors, then the object the caller logged is left as it was', () => {
    const logged = { request: { url: '/c?t=secret' } }
    redactQueries(logged)
    expect(logged.request.url).toBe('/c?t=secret')
  })
})

describe('the logger', () => {
  const written = (log: (logger: ReturnType<typeof createLogger>) => void) => {
    const lines: string[] = []
    log(createLogger('info', { write: (line) => lines.push(line), flush: () => {} }))
    return lines.join('')
  }

  it('when a line has a URL with a secret in its query, then the written line has the name and not the value', () => {
    const line = written((logger) => logger.error({ method: 'GET', url: 'http://h/c?access_token=s3cret' }, 'oops'))
    expect(line).not.toContain('s3cret')
    expect(JSON.parse(line).url).toBe('http://h/c?access_token=[redacted]')
  })

  it("when an error's message, stack or cause holds a URL with a secret, then the written line does not", () => {
    const error = new TypeError('cannot parse /c?access_token=s3cret', { cause: new Error('at /d?key=k3y') })
    const line = written((logger) => logger.error({ err: error }, 'request failed'))
    expect(line).not.toContain('s3cret')
    expect(line).not.toContain('k3y')
    const { message, stack } = JSON.parse(line).err
    expect([message, stack]).toEqual([expect.stringContaining('access_token=[redacted]'), expect.any(String)])
    expect(message).toContain('key=[redacted]')
  })

  it('when an error is logged as the message itself, then the message is censored too', () => {
    const line = written((logger) => logger.error(new Error('bad /c?access_token=s3cret')))
    expect(line).not.toContain('s3cret')
    expect(JSON.parse(line).msg).toBe('bad /c?access_token=[redacted]')
  })
})
