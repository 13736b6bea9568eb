/**
 * `make deploy-minikube` and `make undeploy-minikube` run kustomize/minikube.sh. No cluster
 * runs here, so minikube and kubectl are stand-ins that record their arguments and answer as
 * the real ones do; `kubectl apply -k` and `delete -k` hand the overlay to the real
 * `kubectl kustomize`, so what would be applied must render. The script runs from a copy of
 * kustomize/, so the database.env it writes never lands in the working tree.
 */
import { afterEach, beforeEach, describe, expect, it } from 'bun:test'
import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { ROOT } from '../support/server.ts'
import { kubectl, kustomizeCopy } from './render.ts'

const NODE_URL = 'http://192.168.49.2:31999'

const FAKE_MINIKUBE = `#!/usr/bin/env bash
echo "minikube $*" >> "$CALLS"
case "$1" in
  profile) echo minikube ;;
  status) [[ -z $MINIKUBE_STOPPED ]] ;;
  service) echo "${NODE_URL}" ;;
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

const secretFile = () => join(dir, 'overlays/minikube/database.env')

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
      expect(existsSync(secretFile())).toBe(false)
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
    },
    SLOW,
  )

  it(
    'when it runs the first time, then it writes a random password readable only by the user',
    () => {
      tool('minikube', FAKE_MINIKUBE)
      tool('kubectl', FAKE_KUBECTL)
      expect(run('deploy').code).toBe(0)
      const env = readFileSync(secretFile(), 'utf8')
      const password = /^POSTGRES_PASSWORD=([0-9a-f]{64})$/m.exec(env)?.[1]
      expect(password).toBeDefined()
      expect(env).toContain(`DATABASE_URL=postgres://configs:${password}@postgres:5432/configs\n`)
      expect(statSync(secretFile()).mode & 0o777).toBe(0o600)
    },
    SLOW,
  )

  it(
    'when it runs again, then it keeps the password PostgreSQL was initialised with and restarts the pods',
    () => {
      tool('minikube', FAKE_MINIKUBE)
      tool('kubectl', FAKE_KUBECTL)
      expect(run('deploy').code).toBe(0)
      const first = readFileSync(secretFile(), 'utf8')
      const again = run('deploy', { DEPLOYMENT_EXISTS: '0' })
      expect(again.code).toBe(0)
      expect(readFileSync(secretFile(), 'utf8')).toBe(first)
      expect(again.log).toContain(
        'kubectl --context minikube --namespace config-service rollout restart deployment/config-service',
      )
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
