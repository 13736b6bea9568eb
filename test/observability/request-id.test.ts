import { afterAll, beforeAll, describe, expect, it } from 'bun:test'
import { inProcessService } from './in-process.ts'

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/
let service: Awaited<ReturnType<typeof inProcessService>>

beforeAll(async () => {
  service = await inProcessService({ API_TOKEN: 'secret-token' })
})
afterAll(async () => {
  await service.close()
})

describe('X-Request-Id', () => {
  it('when the caller sends a safe id, then the response and the access line carry it unchanged', async () => {
    const id = 'Abc.123_x-Y'
    const response = await service.request('/configs/datacenter-1', { headers: { 'x-request-id': id } })
    expect(response.headers.get('x-request-id')).toBe(id)
    expect(service.accessLines().at(-1)?.request_id).toBe(id)
  })

  it('when the caller sends no id, then a new UUID is made, returned and logged', async () => {
    const response = await service.request('/configs/datacenter-1')
    const id = response.headers.get('x-request-id')
    expect(id).toMatch(UUID)
    expect(service.accessLines().at(-1)?.request_id).toBe(id)
  })

  for (const [why, id] of [
    ['longer than 128 characters', 'a'.repeat(129)],
    ['with a space', 'abc def'],
    ['with quotes and braces', '"}{"level":"fatal'],
    ['with non-ASCII letters', 'zürich'],
    ['empty', ''],
  ]) {
    it(`when the caller's id is ${why}, then it is replaced by a new UUID`, async () => {
      const response = await service.request('/configs/datacenter-1', { headers: { 'x-request-id': id ?? '' } })
      expect(response.headers.get('x-request-id')).toMatch(UUID)
    })
  }

  it('when an id of exactly 128 safe characters is sent, then it is kept', async () => {
    const id = 'x'.repeat(128)
    const response = await service.request('/configs/datacenter-1', { headers: { 'x-request-id': id } })
    expect(response.headers.get('x-request-id')).toBe(id)
  })

  for (const [what, path, init, status] of [
    ['an unknown path', '/nowhere', {}, 404],
    ['a missing config', '/configs/missing', {}, 404],
    [
      'a wrong method',
      '/configs/datacenter-1',
      { method: 'POST', headers: { authorization: 'Bearer secret-token' } },
      405,
    ],
    ['a write without the token', '/configs', { method: 'POST', body: '{}' }, 401],
    [
      'a malformed body',
      '/configs',
      {
        method: 'POST',
        headers: { authorization: 'Bearer secret-token', 'content-type': 'application/json' },
        body: '{',
      },
      400,
    ],
  ] as const) {
    it(`when answering ${what} with ${status}, then the response still carries the id and the access line counts that status`, async () => {
      const response = await service.request(path, {
        ...init,
        headers: { ...('headers' in init ? init.headers : {}), 'x-request-id': `err-${status}` },
      })
      expect(response.status).toBe(status)
      expect(response.headers.get('x-request-id')).toBe(`err-${status}`)
      expect(service.accessLines().at(-1)).toMatchObject({ request_id: `err-${status}`, status })
    })
  }
})
