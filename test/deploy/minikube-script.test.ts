/**
 * `make deploy-minikube` and `make undeploy-minikube` run kustomize/minikube.sh. No cluster
 * runs here, so minikube and kubectl are stand-ins that record their arguments and answer as
 * the real ones do; `kubectl apply -k` and `delete -k` hand the overlay to the real
 * `kubectl kustomize`, so what would be applied must render. The script runs from a copy of
 * kustomize/ as a fresh clone has it, with nothing generated.
 */
import { afterEach, beforeEach, describe, expect, it } from 'bun:test'
import {
  chmodSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs'
import { join } from 'node:path'
import { ROOT } from '../support/server.ts'
import { kubectl, kustomizeCopy } from './render.ts'

const NODE_URL = 'http://192.168.49.2:31999'

const FAKE_MINIKUBE = `#!/usr/bin/env bash
echo "minikube $*" >> "$CALLS"
case "$1" in
  profile) echo minikube ;;
  status) [[ -z $MINIKUBE_STOPPED ]] ;;
  service) echo "${NODE_URL}"; [[ -z $SECOND_PORT_URL ]] || echo "$SECOND_PORT_URL" ;;
esac
`

const FAKE_KUBECTL = `#!/usr/bin/env bash
echo "kubectl $*" >> "$CALLS"
args=("$@")
for ((i = 0; i < \${#args[@]}; i++)); do
  [[ \${args[i]} == -k ]] || continue
  if [[ -n $REAL_KUBECTL ]]; then exec "$REAL_KUBECTL" kustomize "\${args[i+1]}" > /dev/null; fi
  [[ -f \${args[i+1]}/kustomization.yaml ]] || exit 1
done
[[ $* == *" get deployment/config-service"* ]] && exit "\${DEPLOYMENT_EXISTS:-1}"
exit 0
`

let dir: string
let bin: string
let calls: string

/** Each run may render overlays with the real kubectl; the machine may be busy. */
const SLOW = 30_000

/** Runs the script; `render` hands `-k` overlays to the real `kubectl kustomize`. */
function run(command: string, env: Record<string, string> = {}, path?: string, render = false) {
  const result = Bun.spawnSync(['bash', join(dir, 'minikube.sh'), command], {
    env: {
      PATH: path ?? `${bin}:/usr/bin:/bin`,
      CALLS: calls,
      REAL_KUBECTL: render ? (kubectl ?? '') : '',
      HOME: process.env.HOME ?? '/tmp',
      ...env,
    },
    stdout: 'pipe',
    stderr: 'pipe',
  })
  const log = existsSync(calls) ? readFileSync(calls, 'utf8').trim().split('\n') : []
  return { code: result.exitCode, stdout: result.stdout.toString(), stderr: result.stderr.toString(), log }
}

function tool(name: string, text: string) {
  writeFileSync(join(bin, name), text)
  chmodSync(join(bin, name), 0o755)
}

const legacyFile = () => join(dir, 'overlays/minikube/database.env')
/** Every file under the copy of kustomize/, to see that a run writes none. */
const files = () =>
  (readdirSync(dir, { recursive: true }) as string[]).filter((f) => !f.startsWith('.fake-bin') && f !== '.calls').sort()

beforeEach(() => {
  dir = kustomizeCopy()
  bin = join(dir, '.fake-bin')
  mkdirSync(bin)
  calls = join(dir, '.calls')
})

afterEach(() => {
  rmSync(dir, { recursive: true, force: true })
})

describe('make deploy-minikube', () => {
  it(
    'when minikube is not installed, then it stops at once and says what is missing and where to get it',
    () => {
      tool('kubectl', FAKE_KUBECTL)
      // Only the fake kubectl and the basic tools: no minikube anywhere on this PATH.
      const result = run('deploy', {}, `${bin}:/bin`)
      expect(result.code).toBe(1)
      expect(result.stderr).toContain('minikube not found on PATH')
      expect(result.stderr).toContain('https://minikube.sigs.k8s.io/docs/start/')
    },
    SLOW,
  )

  it(
    'when minikube is not running, then it says how to start it and applies nothing',
    () => {
      tool('minikube', FAKE_MINIKUBE)
      tool('kubectl', FAKE_KUBECTL)
      const result = run('deploy', { MINIKUBE_STOPPED: '1' })
      expect(result.code).toBe(1)
      expect(result.stderr).toContain('minikube start')
      expect(result.log.filter((l) => l.startsWith('kubectl'))).toEqual([])
    },
    SLOW,
  )

  it.skipIf(!kubectl)(
    'when it runs, then it builds the image in minikube, applies the overlay on minikube’s context, waits, and prints the URLs',
    () => {
      tool('minikube', FAKE_MINIKUBE)
      tool('kubectl', FAKE_KUBECTL)
      const result = run('deploy', {}, undefined, true)
      expect([result.code, result.stderr]).toEqual([0, ''])
      const overlay = join(dir, 'overlays/minikube')
      expect(result.log).toEqual([
        'minikube profile',
        'minikube status --profile minikube',
        'minikube image build --profile minikube -t config-service:dev .',
        'kubectl --context minikube --namespace config-service get deployment/config-service',
        `kubectl --context minikube apply -k ${overlay}`,
        'kubectl --context minikube --namespace config-service rollout status statefulset/postgres --timeout=300s',
        'kubectl --context minikube --namespace config-service rollout status deployment/config-service --timeout=300s',
        'minikube service config-service --profile minikube --namespace config-service --url',
      ])
      expect(result.stdout).toContain(`Service URL: ${NODE_URL}\n`)
      expect(result.stdout).toContain(`Swagger UI:  ${NODE_URL}/swagger\n`)
      expect(result.stdout).toContain(`Metrics:     ${NODE_URL}/metrics\n`)
      expect(result.stdout).toContain(`Smoke test:  make smoke URL=${NODE_URL}\n`)
    },
    SLOW,
  )

  it(
    'when it runs straight from a clone, then it generates no file: the overlay has all it needs',
    () => {
      tool('minikube', FAKE_MINIKUBE)
      tool('kubectl', FAKE_KUBECTL)
      const before = files()
      const result = run('deploy')
      expect([result.code, result.stderr]).toEqual([0, ''])
      expect(files()).toEqual(before)
    },
    SLOW,
  )

  it(
    'when it runs again, then it restarts the pods so that they run the image just built',
    () => {
      tool('minikube', FAKE_MINIKUBE)
      tool('kubectl', FAKE_KUBECTL)
      const again = run('deploy', { DEPLOYMENT_EXISTS: '0' })
      expect(again.code).toBe(0)
      expect(again.log).toContain(
        'kubectl --context minikube --namespace config-service rollout restart deployment/config-service',
      )
    },
    SLOW,
  )

  it(
    'when an earlier version’s generated password file is still there, then it says it is unused and how to start afresh',
    () => {
      tool('minikube', FAKE_MINIKUBE)
      tool('kubectl', FAKE_KUBECTL)
      writeFileSync(legacyFile(), 'POSTGRES_PASSWORD=0123\n')
      const result = run('deploy')
      expect(result.code).toBe(0)
      expect(result.stderr).toContain('overlays/minikube/database.env is no longer read')
      expect(result.stderr).toContain('make undeploy-minikube')
    },
    SLOW,
  )

  it.skipIf(!kubectl)(
    'when MONITORING=1, then it applies the monitoring overlay and prints the metrics URL of the metrics port',
    () => {
      tool('minikube', FAKE_MINIKUBE)
      tool('kubectl', FAKE_KUBECTL)
      const metricsUrl = 'http://192.168.49.2:31797'
      const result = run('deploy', { MONITORING: '1', SECOND_PORT_URL: metricsUrl }, undefined, true)
      expect([result.code, result.stderr]).toEqual([0, ''])
      expect(result.log).toContain(`kubectl --context minikube apply -k ${join(dir, 'overlays/minikube-monitoring')}`)
      expect(result.stdout).toContain(`Service URL: ${NODE_URL}\n`)
      expect(result.stdout).toContain(`Metrics:     ${metricsUrl}/metrics\n`)
    },
    SLOW,
  )

  it(
    'when JAEGER=1 and MONITORING=1 are both asked for, then it refuses before touching anything',
    () => {
      tool('minikube', FAKE_MINIKUBE)
      tool('kubectl', FAKE_KUBECTL)
      const result = run('deploy', { JAEGER: '1', MONITORING: '1' })
      expect(result.code).toBe(64)
      expect(result.stderr).toContain('choose one')
      expect(result.log).toEqual([])
    },
    SLOW,
  )

  it.skipIf(!kubectl)(
    'when JAEGER=1, then it applies the Jaeger overlay and also prints the Jaeger UI URL',
    () => {
      tool('minikube', FAKE_MINIKUBE)
      tool('kubectl', FAKE_KUBECTL)
      const result = run('deploy', { JAEGER: '1' }, undefined, true)
      expect(result.code).toBe(0)
      expect(result.log).toContain(`kubectl --context minikube apply -k ${join(dir, 'overlays/minikube-jaeger')}`)
      expect(result.log).toContain(
        'kubectl --context minikube --namespace config-service rollout status deployment/jaeger --timeout=300s',
      )
      expect(result.stdout).toContain(`Jaeger UI:   ${NODE_URL}\n`)
    },
    SLOW,
  )
})

describe('without kubectl', () => {
  /** PATH's basic tools without kubectl: the machine's own kubectl must not be found. */
  function pathWithoutKubectl(): string {
    const tools = join(dir, '.tools-without-kubectl')
    mkdirSync(tools)
    for (const name of readdirSync('/usr/bin'))
      if (name !== 'kubectl') symlinkSync(join('/usr/bin', name), join(tools, name))
    return `${bin}:${tools}`
  }
  /** minikube whose `kubectl --` subcommand records what it was asked, as its bundled kubectl would run it. */
  const MINIKUBE_WITH_KUBECTL = `${FAKE_MINIKUBE}
[[ $1 == kubectl && $* == *" get deployment/config-service"* ]] && exit 1
exit 0
`

  it(
    'when only minikube is installed, then deploy runs every kubectl command through minikube kubectl --, and says so',
    () => {
      tool('minikube', MINIKUBE_WITH_KUBECTL)
      const result = run('deploy', {}, pathWithoutKubectl())
      expect(result.code).toBe(0)
      expect(result.stderr).toBe("note: kubectl not found on PATH: using minikube's (minikube kubectl --)\n")
      const overlay = join(dir, 'overlays/minikube')
      expect(result.log.filter((l) => l.startsWith('minikube kubectl'))).toEqual([
        'minikube kubectl -- --context minikube --namespace config-service get deployment/config-service',
        `minikube kubectl -- --context minikube apply -k ${overlay}`,
        'minikube kubectl -- --context minikube --namespace config-service rollout status statefulset/postgres --timeout=300s',
        'minikube kubectl -- --context minikube --namespace config-service rollout status deployment/config-service --timeout=300s',
      ])
    },
    SLOW,
  )

  it(
    'when only minikube is installed, then undeploy deletes through minikube kubectl -- too',
    () => {
      tool('minikube', MINIKUBE_WITH_KUBECTL)
      const result = run('undeploy', {}, pathWithoutKubectl())
      expect(result.code).toBe(0)
      expect(result.log.filter((l) => l.startsWith('minikube kubectl'))).toEqual([
        `minikube kubectl -- --context minikube delete -k ${join(dir, 'overlays/minikube-jaeger')} --ignore-not-found --wait=true`,
      ])
    },
    SLOW,
  )
})

describe('make undeploy-minikube', () => {
  it.skipIf(!kubectl)(
    'when it runs, then it deletes everything either overlay created, on minikube’s context',
    () => {
      tool('minikube', FAKE_MINIKUBE)
      tool('kubectl', FAKE_KUBECTL)
      const result = run('undeploy', {}, undefined, true)
      expect(result.code).toBe(0)
      expect(result.log.filter((l) => l.startsWith('kubectl'))).toEqual([
        `kubectl --context minikube delete -k ${join(dir, 'overlays/minikube-jaeger')} --ignore-not-found --wait=true`,
      ])
    },
    SLOW,
  )
})

describe('make help', () => {
  it('when listed, then docker-build, deploy-minikube and undeploy-minikube are documented', () => {
    const help = Bun.spawnSync(['make', '--no-print-directory', 'help'], { cwd: ROOT }).stdout.toString()
    for (const target of ['docker-build', 'deploy-minikube', 'undeploy-minikube']) {
      expect(help).toMatch(new RegExp(`make ${target} +\\S`))
    }
  })
})
