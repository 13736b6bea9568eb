import { describe, expect, it } from 'bun:test'
import { inProcessService } from './in-process.ts'

const TOKEN = 'in-process-secret-93b1'

describe('access and change lines', () => {
  it('when the store fails under a request carrying the token, then the failure is logged with its access line and no credential', async () => {
    const service = await inProcessService({ API_TOKEN: TOKEN })
    await service.store.close()
    const response = await service.request('/configs/dc-z', {
      headers: { authorization: `Bearer ${TOKEN}`, 'x-request-id': 'boom-1' },
    })
    expect(response.status).toBeGreaterThanOrEqual(500)
    expect(service.accessLines().at(-1)).toMatchObject({
      request_id: 'boom-1',
      status: response.status,
      route: '/configs/:dcname',
    })
    for (const raw of service.raw) {
      expect(raw).not.toContain(TOKEN)
      expect(raw.toLowerCase()).not.toContain('authorization')
    }
  })

  it('when tracing is off, then change lines still name the change, the dcname and the revision', async () => {
    const service = await inProcessService()
    const created = await service.request('/configs', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ dcname: 'dc-c', metadata: {} }),
    })
    const revision = Number(created.headers.get('etag')?.replaceAll('"', ''))
    expect(service.lines.find((line) => line.dcname === 'dc-c')).toMatchObject({
      msg: 'config created',
      change: 'created',
      dcname: 'dc-c',
      revision,
    })
    await service.close()
  })

  it('when PUT creates a config, then the change line says created, not replaced', async () => {
    const service = await inProcessService()
    await service.request('/configs/dc-new', {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: '{"metadata":{}}',
    })
    expect(service.lines.filter((line) => line.dcname === 'dc-new').map((line) => line.change)).toEqual(['created'])
    await service.close()
  })
})
