/**
 * Builds and runs what the image runs, without a container engine: image-build.ts lays out the
 * final stage's files by following the Dockerfile (the real production install from bun.lock
 * included), and container-sandbox.sh starts the image's ENTRYPOINT as PID 1, as the image's
 * numeric user, on a read-only root with only tmpfs paths writable. Then HTTP, as a client and
 * as the kubelet would speak to it.
 *
 * Not reproduced: the base image's own userland (the host's Debian and this Bun stand in for
 * oven/bun's), the container's network namespace, cgroup limits.
 */
import { afterAll, beforeAll, describe, expect, it } from 'bun:test'
import { existsSync, mkdirSync, readFileSync, rmSync, symlinkSync } from 'node:fs'
import { join } from 'node:path'
import { client, type Target } from '../support/http.ts'
import { ROOT, tempDir } from '../support/server.ts'
import { waitFor } from '../support/wait.ts'
import { readDockerfile, runtimeSpec } from './dockerfile.ts'
import { buildImage } from './image-build.ts'
import { type K8sObject, kubectl, must, parseYamlDocuments, renderAll } from './render.ts'
import {
  canSandbox,
  processIdentity,
  residentBytes,
  type SandboxedServer,
  sandboxCommand,
  startSandboxed,
} from './sandbox.ts'

/** Docker's PATH for an image that sets none (oven/bun sets none). */
const DOCKER_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'

const runtime = runtimeSpec(readDockerfile(ROOT))
const [uid, gid = uid] = (runtime.user ?? '').split(':')
const imageUser = `${uid}:${gid}`

if (!canSandbox) {
  console.warn(
    '\n!!! Not root, or unshare/setpriv missing: the image runtime tests are SKIPPED on this machine.\n' +
      '!!! They run in CI (as root, util-linux present).\n',
  )
}

let work: string | undefined
let building: Promise<string> | undefined

/** Builds the image's final stage once for this file; both describes run it. */
function imageRootfs(): Promise<string> {
  building ??= (async () => {
    work = tempDir('image-')
    const bunDir = join(work, 'bin')
    mkdirSync(bunDir)
    symlinkSync(process.execPath, join(bunDir, 'bun'))
    return (await buildImage(readDockerfile(ROOT), ROOT, join(work, 'build'), bunDir)).rootfs
  })()
  return building
}

afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true })
})

describe.skipIf(!canSandbox)('the image, run as its Dockerfile says', () => {
  let server: SandboxedServer
  let request: ReturnType<typeof client>
  let rootfs: string

  beforeAll(async () => {
    rootfs = await imageRootfs()
    server = await startSandboxed({
      rootfs,
      user: imageUser,
      workdir: runtime.workdir,
      // The image's own environment; only the port (shared host network) and the database (the
      // root is read-only, /tmp is the one writable path) are changed.
      env: { PATH: DOCKER_PATH, HOME: '/', ...runtime.env, SERVE_PORT: '0', DATABASE_URL: 'sqlite:/tmp/configs.db' },
      tmpfs: ['/tmp'],
      argv: runtime.argv,
    })
    const target: Target = { base: server.url, token: '', close: async () => {} }
    request = client(target)
  }, 300_000)

  afterAll(async () => {
    await server?.kill()
  })

  it("when the image is built from the Dockerfile, then it holds the bundle, the console's files and only production dependencies, no TypeScript sources", () => {
    expect(existsSync(join(rootfs, runtime.workdir, runtime.argv[1] as string))).toBe(true)
    expect(existsSync(join(rootfs, runtime.workdir, 'src/console/index.html'))).toBe(true)
    // configctl, for the agent-sidecar component's `bun dist/configctl/configctl.js agent`.
    expect(existsSync(join(rootfs, runtime.workdir, 'dist/configctl/configctl.js'))).toBe(true)
    expect(existsSync(join(rootfs, runtime.workdir, 'src/main.ts'))).toBe(false)
    expect(existsSync(join(rootfs, runtime.workdir, 'node_modules/elysia/package.json'))).toBe(true)
    expect(existsSync(join(rootfs, runtime.workdir, 'node_modules/@biomejs'))).toBe(false)
    expect(existsSync(join(rootfs, runtime.workdir, 'node_modules/kubernetes-models'))).toBe(false)
    expect(existsSync(join(rootfs, runtime.workdir, 'test'))).toBe(false)
  })

  it('when it runs, then the service is PID 1 of its namespace and runs as the image user', () => {
    expect(processIdentity(server.pid1)).toEqual({ uid: Number(uid), nsPid: 1 })
  })

  it('when the sandbox is asked to write, then only /tmp accepts it', () => {
    const probe = Bun.spawnSync(
      sandboxCommand({
        rootfs,
        user: imageUser,
        workdir: runtime.workdir,
        env: { PATH: DOCKER_PATH },
        tmpfs: ['/tmp'],
        argv: [
          'sh',
          '-c',
          'touch /tmp/ok && for p in . /data /etc /usr/local/bin; do touch $p/x 2>/dev/null && echo $p; done; true',
        ],
      }),
      { stdout: 'pipe', stderr: 'pipe' },
    )
    expect([probe.exitCode, probe.stdout.toString().trim()]).toEqual([0, ''])
  })

  it('when a config is created, then it is answered 201 with a Location', async () => {
    const created = await request('POST', '/configs', {
      body: { dcname: 'image-smoke', metadata: { monitoring: { enabled: true } } },
    })
    expect(created.status).toBe(201)
    expect(created.headers.get('location')).toBe('/configs/image-smoke')
  })

  it('when it is read back, then GET returns it with an ETag', async () => {
    const got = await request('GET', '/configs/image-smoke')
    expect(got.status).toBe(200)
    expect(got.json).toEqual({ dcname: 'image-smoke', metadata: { monitoring: { enabled: true } } })
    expect(got.headers.get('etag')).toMatch(/^"\d+"$/)
  })

  it('when configs are listed, then it is among the seeded ones', async () => {
    const listed = await request('GET', '/configs')
    expect(listed.status).toBe(200)
    expect(listed.json.map((c: K8sObject) => c.dcname)).toEqual(['datacenter-1', 'datacenter-2', 'image-smoke'])
  })

  it('when it is patched, then the merge patch is applied', async () => {
    const patched = await request('PATCH', '/configs/image-smoke', {
      body: { metadata: { team: 'platform' } },
      headers: { 'content-type': 'application/merge-patch+json' },
    })
    expect(patched.status).toBe(200)
    expect(patched.json.metadata).toEqual({ monitoring: { enabled: true }, team: 'platform' })
  })

  it('when it is deleted, then DELETE answers 204 and GET 404 problem+json', async () => {
    expect((await request('DELETE', '/configs/image-smoke')).status).toBe(204)
    const gone = await request('GET', '/configs/image-smoke')
    expect(gone.status).toBe(404)
    expect(gone.headers.get('content-type')).toContain('application/problem+json')
  })

  it('when a body is invalid, then 400 problem+json says where', async () => {
    const bad = await request('POST', '/configs', { body: { dcname: 'x', metadata: {}, extra: 1 } })
    expect(bad.status).toBe(400)
    expect(bad.headers.get('content-type')).toContain('application/problem+json')
    expect(bad.json.errors.length).toBeGreaterThan(0)
  })

  it('when the API docs are opened, then the Swagger UI and its OpenAPI document are served from the image', async () => {
    const ui = await request('GET', '/swagger')
    expect(ui.status).toBe(200)
    expect(ui.headers.get('content-type')).toContain('text/html')
    const doc = await request('GET', '/swagger/json')
    expect(doc.status).toBe(200)
    expect(Object.keys(doc.json.paths)).toContain('/configs')
  })

  it("when the console and Swagger UI's files are asked for, then the image serves them, read from its own files", async () => {
    const files: [string, string][] = [
      ['/ui', 'text/html'],
      ['/ui/configs/image-smoke', 'text/html'],
      ['/ui/assets/main.js', 'text/javascript'],
      ['/ui/assets/console.css', 'text/css'],
      ['/ui/assets/vendor/preact.mjs', 'text/javascript'],
      ['/ui/assets/vendor/htm.mjs', 'text/javascript'],
      ['/swagger/assets/swagger-ui-bundle.js', 'text/javascript'],
      ['/swagger/assets/swagger-ui.css', 'text/css'],
    ]
    for (const [path, type] of files) {
      const response = await fetch(server.url + path)
      const body = await response.text()
      expect([path, response.status, response.headers.get('content-type')?.split(';')[0]]).toEqual([path, 200, type])
      expect([path, body.length > 0]).toEqual([path, true])
    }
    const page = await (await fetch(`${server.url}/ui`)).text()
    expect(page).toBe(readFileSync(join(ROOT, 'src/console/index.html'), 'utf8'))
  })

  it('when it has served requests, then its resident memory fits well inside the smallest memory limit', () => {
    const patch = parseYamlDocuments(
      readFileSync(join(ROOT, 'kustomize/overlays/minikube/deployment-patch.yaml'), 'utf8'),
    )[0] as K8sObject
    const limit = patch.spec.template.spec.containers[0].resources.limits.memory as string
    const limitBytes = Number(/^(\d+)Mi$/.exec(limit)?.[1]) * 2 ** 20
    const rss = residentBytes(server.pid1)
    console.log(`image process RSS after the smoke suite: ${(rss / 2 ** 20).toFixed(1)} MiB (limit ${limit})`)
    expect(rss).toBeLessThan(limitBytes * 0.75)
  })

  it('when PID 1 gets SIGTERM, then the service handles it and exits 0', async () => {
    const { code } = await server.terminate(15_000)
    expect(code).toBe(0)
  }, 30_000)
})

describe.skipIf(!canSandbox || !kubectl)('the image, run as the base Deployment runs it', () => {
  let server: SandboxedServer
  let container: K8sObject
  let pod: K8sObject
  let settings: Record<string, string>

  beforeAll(async () => {
    const base = (await renderAll()).objects.get('base') ?? []
    const deployment = must(base, 'Deployment', 'config-service')
    pod = deployment.spec.template.spec
    container = pod.containers[0]
    const configMap = must(base, 'ConfigMap', container.envFrom[0].configMapRef.name)
    settings = { ...configMap.data }
    for (const e of container.env ?? []) settings[e.name] = e.value
    const emptyDirs = new Set(pod.volumes.filter((v: K8sObject) => v.emptyDir).map((v: K8sObject) => v.name))
    const user = container.securityContext.runAsUser ?? pod.securityContext.runAsUser
    const group = container.securityContext.runAsGroup ?? pod.securityContext.runAsGroup
    server = await startSandboxed({
      rootfs: await imageRootfs(),
      user: `${user}:${group}`,
      workdir: runtime.workdir,
      // The image's environment, then the Deployment's (which wins); only the port is changed,
      // because the sandbox shares the host's network.
      env: { PATH: DOCKER_PATH, HOME: '/', ...runtime.env, ...settings, SERVE_PORT: '0' },
      tmpfs: container.volumeMounts.filter((m: K8sObject) => emptyDirs.has(m.name)).map((m: K8sObject) => m.mountPath),
      argv: runtime.argv,
    })
  }, 300_000)

  afterAll(async () => {
    await server?.kill()
  })

  it('when the kubelet probes it, then startup, liveness and readiness paths answer 200', async () => {
    for (const probe of ['startupProbe', 'livenessProbe', 'readinessProbe']) {
      const response = await fetch(`${server.url}${container[probe].httpGet.path}`)
      expect([probe, response.status]).toEqual([probe, 200])
    }
  })

  it('when Prometheus scrapes the annotated path, then it gets metrics', async () => {
    const annotations = (await renderAll()).objects.get('base')?.find((o) => o.kind === 'Deployment')?.spec.template
      .metadata.annotations
    const response = await fetch(`${server.url}${annotations['prometheus.io/path']}`)
    expect(response.status).toBe(200)
    expect(await response.text()).toContain('http_requests_total')
  })

  it('when a config is written, then it lands in the SQLite file on the /data emptyDir', async () => {
    const created = await fetch(`${server.url}/configs`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ dcname: 'on-data', metadata: {} }),
    })
    expect(created.status).toBe(201)
    const path = (settings.DATABASE_URL as string).replace(/^sqlite:/, '')
    // /proc/<pid>/root is the sandbox's root as the process sees it, mounts included.
    expect(existsSync(`/proc/${server.pid1}/root${path}`)).toBe(true)
  })

  it('when the kubelet sends SIGTERM, then readiness fails at once and the process exits 0 after the delay, within the grace period', async () => {
    const delayMs = Number(settings.SHUTDOWN_DELAY_MS)
    let exited = false
    const exit = server.terminate(pod.terminationGracePeriodSeconds * 1000).finally(() => {
      exited = true
    })
    // Readiness fails while the process still serves (the delay keeps it listening).
    await waitFor(async () => (await fetch(`${server.url}/readyz`)).status === 503, delayMs, 'readiness to fail')
    expect(exited).toBe(false)
    const { code, ms } = await exit
    expect(code).toBe(0)
    expect(ms).toBeGreaterThanOrEqual(delayMs)
    console.log(`SIGTERM to exit as PID 1 with SHUTDOWN_DELAY_MS=${delayMs}: ${Math.round(ms)} ms`)
  }, 60_000)
})
