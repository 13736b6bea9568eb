/**
 * The agent-sidecar component, rendered offline with the real kubectl over its example workload
 * (kustomize/examples/agent-sidecar): valid against the Kubernetes schemas, the sidecar sharing
 * its volume with the workload, and its command line, as rendered, run by the configctl bundle
 * the image holds against a real service: it writes the file the workload reads and reports.
 */
import { afterAll, beforeAll, describe, expect, it } from 'bun:test'
import { existsSync, readFileSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { ROOT, type RunningServer, startServer, tempDir } from '../support/server.ts'
import { type K8sObject, kubectl, kustomizeCopy, must, render } from './render.ts'
import { schemaErrors, unknownFieldChecker } from './schema.ts'

if (!kubectl)
  console.warn('\n!!! kubectl is not on PATH: the agent-sidecar render checks are SKIPPED on this machine.\n')

describe.skipIf(!kubectl)('agent-sidecar component', () => {
  let objects: K8sObject[]
  let pod: K8sObject['spec']

  beforeAll(async () => {
    const dir = kustomizeCopy()
    try {
      objects = await render(join(dir, 'examples/agent-sidecar'))
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
    pod = must(objects, 'Deployment', 'web').spec.template.spec
  }, 30_000)

  const sidecar = () => pod.initContainers.find((c: { name: string }) => c.name === 'config-agent')

  it('when rendered, then every object is valid against the Kubernetes schemas, with no unknown field', async () => {
    const errors: string[] = []
    const unknown = unknownFieldChecker(objects)
    for (const o of objects) {
      for (const e of [...(await schemaErrors(o)), ...unknown(o)]) errors.push(`${o.kind}/${o.metadata.name}: ${e}`)
    }
    expect(errors).toEqual([])
  })

  it('when the pod starts, then the agent is a native sidecar that holds the workload back until a copy is on disk', () => {
    expect(sidecar()).toMatchObject({
      restartPolicy: 'Always',
      command: ['bun', 'dist/configctl/configctl.js', 'agent'],
    })
    expect(sidecar().startupProbe.exec.command).toEqual(['test', '-e', '/config/..data'])
  })

  it('when the workload reads its config, then it mounts, read-only, the emptyDir the agent writes', () => {
    const volume = pod.volumes.find((v: { name: string }) => v.name === 'config')
    expect(volume.emptyDir).toBeDefined()
    const mounts = (c: { volumeMounts: { name: string; mountPath: string; readOnly?: boolean }[] }) =>
      c.volumeMounts.filter((m) => m.name === 'config')
    expect(mounts(sidecar())).toEqual([{ name: 'config', mountPath: '/config' }])
    expect(mounts(pod.containers[0])).toEqual([{ name: 'config', mountPath: '/config', readOnly: true }])
    expect(sidecar().args).toContain('--dir=/config')
  })

  it('when the image is built, then it holds the configctl bundle at the path the sidecar runs', () => {
    const dockerfile = readFileSync(join(ROOT, 'Dockerfile'), 'utf8')
    expect(dockerfile).toContain('RUN bun run bundle:configctl')
    expect(dockerfile).toContain('COPY --from=bundle /app/dist/configctl-bundle ./dist/configctl')
    const scripts = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).scripts
    expect(scripts['bundle:configctl']).toContain('--outfile=dist/configctl-bundle/configctl.js')
  })

  describe('its command line, run', () => {
    let server: RunningServer
    beforeAll(async () => {
      const bundle = Bun.spawn([process.execPath, 'run', 'bundle:configctl'], {
        cwd: ROOT,
        stdout: 'pipe',
        stderr: 'pipe',
      })
      const [started, code] = await Promise.all([startServer({ env: { CONSUMERS_FLUSH_MS: '5' } }), bundle.exited])
      server = started
      if (code !== 0) throw new Error(`bun run bundle:configctl failed: ${await new Response(bundle.stderr).text()}`)
    }, 60_000)
    afterAll(async () => {
      await server?.stop()
    })

    it('when the sidecar runs as rendered (with --once), then it writes /config/<dcname>.json and reports as the pod', async () => {
      const dir = tempDir('sidecar-')
      const c = sidecar()
      const env = { CONFIG_DCNAME: 'datacenter-1', POD_NAME: 'web-5d8f-abcde' }
      const args = (c.args as string[]).map((a) =>
        a.replace(/\$\((\w+)\)/g, (_, name: keyof typeof env) => env[name]).replace('--dir=/config', `--dir=${dir}`),
      )
      const child = Bun.spawn(
        [
          process.execPath,
          join(ROOT, c.command[1]).replace('/dist/configctl/', '/dist/configctl-bundle/'),
          ...c.command.slice(2),
          ...args,
          '--once',
        ],
        {
          env: { PATH: process.env.PATH ?? '', CONFIGCTL_URL: server.url },
          stdout: 'pipe',
          stderr: 'pipe',
        },
      )
      expect(await child.exited, await new Response(child.stderr).text()).toBe(0)
      expect(existsSync(join(dir, '..data'))).toBe(true)
      expect(JSON.parse(readFileSync(join(dir, 'datacenter-1.json'), 'utf8')).dcname).toBe('datacenter-1')
      const listed = await (await fetch(`${server.url}/configs/datacenter-1/consumers`)).json()
      expect(listed).toEqual([expect.objectContaining({ consumer: 'web-5d8f-abcde', status: 'applied' })])
    })
  })
})
