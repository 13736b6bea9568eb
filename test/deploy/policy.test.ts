/**
 * Policy on the rendered manifests: what a reviewer would check by eye, checked on every
 * overlay. Probes, resources, the restricted security context, labels and selectors, ports by
 * name, settings the service really reads, how the overlays differ, and no committed secret.
 */
import { beforeAll, describe, expect, it } from 'bun:test'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { loadSettings, SETTING_NAMES } from '../../src/settings.ts'
import { ROOT } from '../support/server.ts'
import {
  find,
  type K8sObject,
  kubectl,
  must,
  podTemplates,
  type Rendered,
  renderAll,
  TARGETS,
  type Target,
} from './render.ts'

/** The OpenTelemetry SDK's standard variables that a deployment may set besides SETTING_NAMES. */
const OTEL_STANDARD = new Set([
  'OTEL_SDK_DISABLED',
  'OTEL_SERVICE_NAME',
  'OTEL_RESOURCE_ATTRIBUTES',
  'OTEL_LOG_LEVEL',
  'OTEL_PROPAGATORS',
  'OTEL_TRACES_EXPORTER',
  'OTEL_TRACES_SAMPLER',
  'OTEL_TRACES_SAMPLER_ARG',
  'OTEL_BSP_SCHEDULE_DELAY',
  'OTEL_BSP_EXPORT_TIMEOUT',
  'OTEL_BSP_MAX_QUEUE_SIZE',
  'OTEL_BSP_MAX_EXPORT_BATCH_SIZE',
  'OTEL_EXPORTER_OTLP_ENDPOINT',
  'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT',
  'OTEL_EXPORTER_OTLP_PROTOCOL',
  'OTEL_EXPORTER_OTLP_TRACES_PROTOCOL',
  'OTEL_EXPORTER_OTLP_HEADERS',
  'OTEL_EXPORTER_OTLP_TRACES_HEADERS',
  'OTEL_EXPORTER_OTLP_TIMEOUT',
  'OTEL_EXPORTER_OTLP_TRACES_TIMEOUT',
  'OTEL_EXPORTER_OTLP_COMPRESSION',
  'OTEL_EXPORTER_JAEGER_AGENT_HOST',
  'OTEL_EXPORTER_JAEGER_AGENT_PORT',
  'OTEL_EXPORTER_JAEGER_ENDPOINT',
  'OTEL_EXPORTER_JAEGER_USER',
  'OTEL_EXPORTER_JAEGER_PASSWORD',
])
const KNOWN_VARIABLES = new Set<string>([...SETTING_NAMES, ...OTEL_STANDARD])

/** Secrets the production overlay expects the operator to have created (docs/KUBERNETES.md tells how). */
const OPERATOR_SECRETS = [
  'config-service-database',
  'config-service-api-token',
  'config-service-api-tokens',
  'config-service-tls',
]

const APP = 'config-service'
/** The one committed password: minikube's in-cluster PostgreSQL, labelled as local development only. */
const LOCAL_DEVELOPMENT_ENV = 'kustomize/overlays/minikube/local-development.env'
const RECOMMENDED_LABELS = ['app.kubernetes.io/name', 'app.kubernetes.io/instance', 'app.kubernetes.io/part-of']

let rendered: Rendered
const objectsOf = (target: Target): K8sObject[] => rendered.objects.get(target) ?? []
const appDeployment = (target: Target) => must(objectsOf(target), 'Deployment', APP)
const appContainer = (target: Target) => {
  const container = appDeployment(target).spec.template.spec.containers.find((c: K8sObject) => c.name === APP)
  if (!container) throw new Error(`no ${APP} container in ${target}`)
  return container
}
const appConfigMap = (target: Target): Record<string, string> => {
  const name = appContainer(target).envFrom.find((e: K8sObject) => e.configMapRef)?.configMapRef.name
  return must(objectsOf(target), 'ConfigMap', name).data
}

/**
 * The environment the container gets: the ConfigMap, then `env` (which wins). A value from a
 * Secret is read from the render when the Secret is there, else is a stand-in of the right shape.
 */
function effectiveEnv(target: Target): Record<string, string> {
  const env: Record<string, string> = { ...appConfigMap(target) }
  for (const variable of appContainer(target).env ?? []) {
    const ref = variable.valueFrom?.secretKeyRef
    if (!ref) {
      env[variable.name] = variable.value
      continue
    }
    const secret = find(objectsOf(target), 'Secret', ref.name)
    env[variable.name] = secret
      ? Buffer.from(String(secret.data[ref.key]).replace(/\n/g, ''), 'base64').toString()
      : standIn(variable.name)
  }
  return env
}

/** A value of a Secret in the render, decoded. */
function secretValue(target: Target, name: string, key: string): string {
  const secret = objectsOf(target).find((o) => o.kind === 'Secret' && o.metadata.name.startsWith(name))
  if (!secret) throw new Error(`no Secret ${name} in ${target}`)
  return Buffer.from(String(secret.data[key]).replace(/\n/g, ''), 'base64').toString()
}

function standIn(name: string): string {
  if (name === 'DATABASE_URL') return 'postgres://configs:stand-in@db.example.internal:5432/configs'
  return 'stand-in-value'
}

function quantity(value: string | number): number {
  const match = /^([0-9.]+)(m|Ki|Mi|Gi|Ti|k|M|G)?$/.exec(String(value))
  if (!match) throw new Error(`unsupported quantity ${value}`)
  const scale: Record<string, number> = {
    m: 1e-3,
    k: 1e3,
    M: 1e6,
    G: 1e9,
    Ki: 2 ** 10,
    Mi: 2 ** 20,
    Gi: 2 ** 30,
    Ti: 2 ** 40,
  }
  return Number(match[1]) * (match[2] ? (scale[match[2]] as number) : 1)
}

const selects = (selector: Record<string, string>, labels: Record<string, string>) =>
  Object.keys(selector).length > 0 && Object.entries(selector).every(([k, v]) => labels?.[k] === v)

if (!kubectl) console.warn('\n!!! kubectl is not on PATH: the manifest policy checks are SKIPPED on this machine.\n')

describe.skipIf(!kubectl)('manifest policy', () => {
  beforeAll(async () => {
    rendered = await renderAll()
  }, 30_000)

  for (const target of TARGETS) {
    describe(target, () => {
      it('when a pod is admitted under the restricted Pod Security Standard, then every workload qualifies', () => {
        const problems: string[] = []
        for (const { owner, template } of podTemplates(objectsOf(target))) {
          const pod = template.spec
          const at = `${owner.kind}/${owner.metadata.name}`
          if (pod.securityContext?.runAsNonRoot !== true) problems.push(`${at}: pod runAsNonRoot`)
          if (pod.securityContext?.seccompProfile?.type !== 'RuntimeDefault') problems.push(`${at}: seccomp`)
          if (pod.hostNetwork || pod.hostPID || pod.hostIPC) problems.push(`${at}: host namespaces`)
          if (pod.automountServiceAccountToken !== false) problems.push(`${at}: service account token mounted`)
          for (const volume of pod.volumes ?? []) {
            const type = Object.keys(volume).find((k) => k !== 'name')
            if (!['emptyDir', 'configMap', 'secret', 'projected', 'persistentVolumeClaim'].includes(type ?? '')) {
              problems.push(`${at}: volume ${volume.name} is ${type}`)
            }
          }
          for (const c of [...(pod.initContainers ?? []), ...pod.containers]) {
            const sc = c.securityContext ?? {}
            const uid = sc.runAsUser ?? pod.securityContext?.runAsUser
            if (!Number.isInteger(uid) || uid === 0) problems.push(`${at}/${c.name}: numeric non-root runAsUser`)
            if (sc.allowPrivilegeEscalation !== false) problems.push(`${at}/${c.name}: allowPrivilegeEscalation`)
            if (sc.privileged) problems.push(`${at}/${c.name}: privileged`)
            if (sc.readOnlyRootFilesystem !== true) problems.push(`${at}/${c.name}: readOnlyRootFilesystem`)
            if (!sc.capabilities?.drop?.includes('ALL')) problems.push(`${at}/${c.name}: capabilities not dropped`)
            if ((sc.capabilities?.add ?? []).some((cap: string) => cap !== 'NET_BIND_SERVICE')) {
              problems.push(`${at}/${c.name}: capabilities added`)
            }
          }
        }
        expect(problems).toEqual([])
      })

      it('when any container is scheduled, then it has cpu and memory requests no larger than its limits', () => {
        const problems: string[] = []
        for (const { owner, template } of podTemplates(objectsOf(target))) {
          for (const c of [...(template.spec.initContainers ?? []), ...template.spec.containers]) {
            for (const resource of ['cpu', 'memory']) {
              const request = c.resources?.requests?.[resource]
              const limit = c.resources?.limits?.[resource]
              if (request === undefined || limit === undefined) {
                problems.push(`${owner.metadata.name}/${c.name}: ${resource} request and limit`)
              } else if (quantity(request) > quantity(limit)) {
                problems.push(`${owner.metadata.name}/${c.name}: ${resource} request above limit`)
              }
            }
          }
        }
        expect(problems).toEqual([])
      })

      it('when the kubelet probes the service, then startup and liveness use /healthz and readiness /readyz on the named port', () => {
        const c = appContainer(target)
        for (const probe of ['startupProbe', 'livenessProbe', 'readinessProbe']) {
          expect(c[probe]?.httpGet?.port).toBe('http')
          expect(c[probe].timeoutSeconds).toBeGreaterThanOrEqual(1)
        }
        expect(c.startupProbe.httpGet.path).toBe('/healthz')
        expect(c.livenessProbe.httpGet.path).toBe('/healthz')
        expect(c.readinessProbe.httpGet.path).toBe('/readyz')
      })

      it('when the service listens on SERVE_PORT (and METRICS_PORT), then the container ports, the scrape annotation and the Service agree with them', () => {
        const port = Number(appConfigMap(target).SERVE_PORT)
        const metricsPort = appConfigMap(target).METRICS_PORT
        const ports = appContainer(target).ports
        expect(ports.find((p: K8sObject) => p.name === 'http')?.containerPort).toBe(port)
        const annotations = appDeployment(target).spec.template.metadata.annotations
        expect(annotations).toMatchObject({
          'prometheus.io/scrape': 'true',
          'prometheus.io/port': metricsPort ?? String(port),
          'prometheus.io/path': '/metrics',
        })
        const service = must(objectsOf(target), 'Service', APP)
        const targetPorts = service.spec.ports.map((p: K8sObject) => p.targetPort)
        if (metricsPort === undefined) {
          expect(targetPorts).toEqual(['http'])
          expect(ports.map((p: K8sObject) => p.name)).toEqual(['http'])
        } else {
          expect(ports.find((p: K8sObject) => p.name === 'metrics')?.containerPort).toBe(Number(metricsPort))
          expect(targetPorts).toEqual(['http', 'metrics'])
          expect(service.spec.ports.find((p: K8sObject) => p.targetPort === 'metrics').name).toBe('metrics')
        }
      })

      it('when an Ingress routes traffic, then only ever to the API port, never to the metrics', () => {
        const service = find(objectsOf(target), 'Service', APP)
        const httpPort = service?.spec.ports.find((p: K8sObject) => p.targetPort === 'http')
        for (const ingress of objectsOf(target).filter((o) => o.kind === 'Ingress')) {
          const backends = [
            ingress.spec.defaultBackend,
            ...ingress.spec.rules.flatMap((r: K8sObject) => r.http.paths.map((p: K8sObject) => p.backend)),
          ].filter(Boolean)
          expect(backends.length).toBeGreaterThan(0)
          for (const backend of backends) {
            expect(backend.service.name).toBe(APP)
            const port = backend.service.port
            expect(port.name === httpPort.name || port.number === httpPort.port).toBe(true)
          }
        }
      })

      it('when SIGTERM arrives, then the grace period outlasts the shutdown delay plus the drain timeout', () => {
        const settings = loadSettings(effectiveEnv(target))
        expect(settings.shutdownDelayMs).toBe(3000)
        const graceMs = appDeployment(target).spec.template.spec.terminationGracePeriodSeconds * 1000
        expect(graceMs).toBeGreaterThanOrEqual(settings.shutdownDelayMs + settings.shutdownTimeoutMs + 5000)
      })

      it('when the settings reach the service, then every name is one it reads and every value parses', () => {
        const names = [
          ...Object.keys(appConfigMap(target)),
          ...(appContainer(target).env ?? []).map((e: K8sObject) => e.name),
        ]
        expect(names.filter((name) => !KNOWN_VARIABLES.has(name))).toEqual([])
        expect(() => loadSettings(effectiveEnv(target))).not.toThrow()
      })

      it('when an env var is declared, then it has either a value or a valueFrom, never both', () => {
        for (const { template } of podTemplates(objectsOf(target))) {
          for (const c of [...(template.spec.initContainers ?? []), ...template.spec.containers]) {
            for (const e of c.env ?? []) expect([e.name, 'value' in e !== 'valueFrom' in e]).toEqual([e.name, true])
          }
        }
      })

      it('when objects are labelled, then each carries the recommended app.kubernetes.io labels', () => {
        const missing = objectsOf(target).flatMap((o) =>
          RECOMMENDED_LABELS.filter((l) => !o.metadata.labels?.[l]).map((l) => `${o.kind}/${o.metadata.name}: ${l}`),
        )
        expect(missing).toEqual([])
      })

      it('when a workload selects its pods, then its selector matches its own template and no other workload', () => {
        const templates = podTemplates(objectsOf(target))
        for (const { owner, template } of templates) {
          const selector = owner.spec.selector.matchLabels
          expect(selects(selector, template.metadata.labels)).toBe(true)
          const others = templates.filter((t) => t.owner !== owner && selects(selector, t.template.metadata.labels))
          expect(others.map((t) => t.owner.metadata.name)).toEqual([])
        }
      })

      it('when a Service routes traffic, then it selects exactly one workload and targets a port it names', () => {
        const templates = podTemplates(objectsOf(target))
        for (const service of objectsOf(target).filter((o) => o.kind === 'Service')) {
          const matched = templates.filter((t) => selects(service.spec.selector, t.template.metadata.labels))
          expect([service.metadata.name, matched.length]).toEqual([service.metadata.name, 1])
          const names = (matched[0]?.template.spec.containers ?? []).flatMap((c: K8sObject) =>
            (c.ports ?? []).map((p: K8sObject) => p.name),
          )
          for (const port of service.spec.ports) {
            expect(typeof port.targetPort).toBe('string')
            expect(names).toContain(port.targetPort)
          }
        }
      })

      it('when an object refers to a ConfigMap, Secret or ServiceAccount, then it is rendered alongside (or is an operator Secret)', () => {
        const dangling: string[] = []
        const has = (kind: string, name: string) =>
          find(objectsOf(target), kind, name) !== undefined || (kind === 'Secret' && OPERATOR_SECRETS.includes(name))
        for (const { owner, template } of podTemplates(objectsOf(target))) {
          const spec = template.spec
          if (spec.serviceAccountName && !has('ServiceAccount', spec.serviceAccountName)) {
            dangling.push(`ServiceAccount ${spec.serviceAccountName}`)
          }
          for (const volume of spec.volumes ?? []) {
            const secretName = volume.secret?.secretName
            if (secretName && !has('Secret', secretName)) dangling.push(`${owner.metadata.name}: Secret ${secretName}`)
          }
          for (const c of [...(spec.initContainers ?? []), ...spec.containers]) {
            for (const e of c.envFrom ?? []) {
              if (e.configMapRef && !has('ConfigMap', e.configMapRef.name))
                dangling.push(`ConfigMap ${e.configMapRef.name}`)
              if (e.secretRef && !has('Secret', e.secretRef.name)) dangling.push(`Secret ${e.secretRef.name}`)
            }
            for (const e of c.env ?? []) {
              const ref = e.valueFrom?.secretKeyRef ?? e.valueFrom?.configMapKeyRef
              const kind = e.valueFrom?.secretKeyRef ? 'Secret' : 'ConfigMap'
              if (ref && !has(kind, ref.name)) dangling.push(`${owner.metadata.name}: ${kind} ${ref.name}`)
            }
          }
        }
        expect(dangling).toEqual([])
      })
    })
  }

  describe('how the overlays differ', () => {
    it('when only the base is applied, then one replica runs on SQLite in an emptyDir at /data', () => {
      expect(appDeployment('base').spec.replicas).toBe(1)
      expect(effectiveEnv('base').DATABASE_URL).toBe('sqlite:/data/configs.db')
      const spec = appDeployment('base').spec.template.spec
      const mount = appContainer('base').volumeMounts.find((m: K8sObject) => m.mountPath === '/data')
      expect(spec.volumes.find((v: K8sObject) => v.name === mount?.name)?.emptyDir).toBeDefined()
    })

    it('when deployed on minikube, then two replicas on a local never-pulled image share the in-cluster PostgreSQL', () => {
      const objects = objectsOf('overlays/minikube')
      expect(appDeployment('overlays/minikube').spec.replicas).toBe(2)
      expect(appContainer('overlays/minikube').image).toBe(deployScriptImage())
      expect(appContainer('overlays/minikube').imagePullPolicy).toBe('Never')
      expect(must(objects, 'Service', APP).spec.type).toBe('NodePort')
      expect(objects.filter((o) => ['Ingress', 'HorizontalPodAutoscaler'].includes(o.kind))).toEqual([])

      const url = new URL(loadSettingsUrl('overlays/minikube'))
      const postgres = must(objects, 'StatefulSet', 'postgres')
      const pgEnv = Object.fromEntries(
        postgres.spec.template.spec.containers[0].env.map((e: K8sObject) => [e.name, e.value ?? e.valueFrom]),
      )
      const pgService = must(objects, 'Service', postgres.spec.serviceName)
      expect(url.hostname).toBe(pgService.metadata.name)
      expect(Number(url.port)).toBe(pgService.spec.ports[0].port)
      expect(url.username).toBe(pgEnv.POSTGRES_USER)
      expect(url.pathname).toBe(`/${pgEnv.POSTGRES_DB}`)
      expect(decodeURIComponent(url.password)).toBe(
        secretValue('overlays/minikube', pgEnv.POSTGRES_PASSWORD.secretKeyRef.name, 'POSTGRES_PASSWORD'),
      )
      // The app and PostgreSQL read the password from the same generated Secret.
      const appSecret = appContainer('overlays/minikube').env.find((e: K8sObject) => e.name === 'DATABASE_URL')
      expect(pgEnv.POSTGRES_PASSWORD.secretKeyRef.name).toBe(appSecret.valueFrom.secretKeyRef.name)
      expect(postgres.spec.volumeClaimTemplates[0].spec.resources.requests.storage).toBeDefined()
    })

    it('when deployed on minikube, then the namespace enforces the restricted Pod Security Standard', () => {
      const namespace = must(objectsOf('overlays/minikube'), 'Namespace', 'config-service')
      expect(namespace.metadata.labels['pod-security.kubernetes.io/enforce']).toBe('restricted')
      for (const o of objectsOf('overlays/minikube').filter((o) => o.kind !== 'Namespace')) {
        expect([o.kind, o.metadata.namespace]).toEqual([o.kind, 'config-service'])
      }
    })

    it('when Jaeger is enabled, then the service exports OTLP to the in-cluster Jaeger collector port', () => {
      const objects = objectsOf('overlays/minikube-jaeger')
      const env = effectiveEnv('overlays/minikube-jaeger')
      expect(env.OTEL_TRACES_EXPORTER).toBe('otlp')
      const endpoint = new URL(env.OTEL_EXPORTER_OTLP_ENDPOINT as string)
      const collector = must(objects, 'Service', endpoint.hostname)
      expect(collector.spec.ports.map((p: K8sObject) => p.port)).toContain(Number(endpoint.port))
      expect(must(objects, 'Service', 'jaeger-ui').spec.type).toBe('NodePort')
      expect(effectiveEnv('overlays/minikube').OTEL_TRACES_EXPORTER).toBe('none')
    })

    it('when deployed to production, then an HPA owns the replicas, a PDB and an Ingress with TLS front it', () => {
      const objects = objectsOf('overlays/production')
      const deployment = appDeployment('overlays/production')
      expect(deployment.spec.replicas).toBeUndefined()
      const hpa = must(objects, 'HorizontalPodAutoscaler', APP)
      expect(hpa.apiVersion).toBe('autoscaling/v2')
      expect(hpa.spec.scaleTargetRef).toEqual({ apiVersion: 'apps/v1', kind: 'Deployment', name: APP })
      expect(hpa.spec.minReplicas).toBeGreaterThanOrEqual(2)
      expect(hpa.spec.maxReplicas).toBeGreaterThan(hpa.spec.minReplicas)
      const labels = deployment.spec.template.metadata.labels
      expect(selects(must(objects, 'PodDisruptionBudget', APP).spec.selector.matchLabels, labels)).toBe(true)
      expect(must(objects, 'Service', APP).spec.type).toBe('ClusterIP')
      const ingress = must(objects, 'Ingress', APP)
      const backend = ingress.spec.rules[0].http.paths[0].backend.service
      expect(backend).toEqual({ name: APP, port: { name: 'http' } })
      expect(ingress.spec.tls[0].hosts).toEqual([ingress.spec.rules[0].host])
      expect(OPERATOR_SECRETS).toContain(ingress.spec.tls[0].secretName)
    })

    it('when deployed to production, then pods spread over zones and nodes and a NetworkPolicy fences them', () => {
      const objects = objectsOf('overlays/production')
      const spec = appDeployment('overlays/production').spec.template.spec
      const labels = appDeployment('overlays/production').spec.template.metadata.labels
      expect(spec.topologySpreadConstraints.map((t: K8sObject) => t.topologyKey).sort()).toEqual([
        'kubernetes.io/hostname',
        'topology.kubernetes.io/zone',
      ])
      for (const t of spec.topologySpreadConstraints) expect(selects(t.labelSelector.matchLabels, labels)).toBe(true)
      const policy = must(objects, 'NetworkPolicy', APP)
      expect(selects(policy.spec.podSelector.matchLabels, labels)).toBe(true)
      expect(policy.spec.policyTypes.sort()).toEqual(['Egress', 'Ingress'])
      // Each source reaches one port: the ingress controller the API, Prometheus the metrics.
      const admitted = policy.spec.ingress.map((rule: K8sObject) => ({
        from: rule.from.map((peer: K8sObject) => peer.podSelector.matchLabels['app.kubernetes.io/name']),
        ports: rule.ports.map((p: K8sObject) => p.port),
      }))
      expect(admitted).toEqual([
        { from: ['ingress-nginx'], ports: ['http'] },
        { from: ['prometheus'], ports: ['metrics'] },
      ])
      const egressPorts = policy.spec.egress.flatMap((r: K8sObject) => r.ports.map((p: K8sObject) => p.port)).sort()
      const otlp = Number(new URL(effectiveEnv('overlays/production').OTEL_EXPORTER_OTLP_ENDPOINT as string).port)
      expect(egressPorts).toEqual([53, 53, 5432, otlp].sort())
    })

    it('when deployed to production, then the image is a pinned release and the limits are larger than on minikube', () => {
      const image = appContainer('overlays/production').image as string
      expect(image).toMatch(/^[a-z0-9.-]+(:\d+)?\/[a-z0-9/._-]+:\d+\.\d+\.\d+$/)
      expect(image.split(':').at(-1)).toBe(
        appDeployment('overlays/production').metadata.labels['app.kubernetes.io/version'],
      )
      const limits = (t: Target) => appContainer(t).resources.limits
      for (const resource of ['cpu', 'memory']) {
        expect(quantity(limits('overlays/production')[resource])).toBeGreaterThan(
          quantity(limits('overlays/minikube')[resource]),
        )
      }
    })

    it('when deployed to production, then DATABASE_URL and API_TOKEN come from the operator Secrets and nothing else holds a secret', () => {
      const env = appContainer('overlays/production').env
      const from = (name: string) => env.find((e: K8sObject) => e.name === name)?.valueFrom?.secretKeyRef
      expect(from('DATABASE_URL')).toEqual({ name: 'config-service-database', key: 'DATABASE_URL' })
      expect(from('API_TOKEN')).toEqual({ name: 'config-service-api-token', key: 'API_TOKEN' })
      expect(objectsOf('overlays/production').filter((o) => o.kind === 'Secret')).toEqual([])
      expect(loadSettings(effectiveEnv('overlays/production')).database.kind).toBe('postgres')
      expect(appConfigMap('overlays/production').SEED).toBe('false')
    })

    it('when deployed to production, then the tokens file is the operator Secret mounted whole and read-only, and API_TOKENS_FILE points into it', () => {
      const spec = appDeployment('overlays/production').spec.template.spec
      const volume = spec.volumes.find((v: K8sObject) => v.secret?.secretName === 'config-service-api-tokens')
      expect(volume.secret.defaultMode).toBe(0o440)
      expect(spec.securityContext.fsGroup).toBe(65532)
      const mount = appContainer('overlays/production').volumeMounts.find((m: K8sObject) => m.name === volume.name)
      // A subPath mount never sees the Secret change: the file must be reached through the directory.
      expect(mount).toEqual({ name: volume.name, mountPath: '/etc/config-service/tokens', readOnly: true })
      const settings = loadSettings(effectiveEnv('overlays/production'))
      expect(settings.tokensFile).toBe('/etc/config-service/tokens/tokens.yaml')
      expect(settings.tokensFile?.startsWith(`${mount.mountPath}/`)).toBe(true)
      // The other overlays run without a tokens file.
      for (const target of ['base', 'overlays/minikube'] as Target[]) {
        expect(loadSettings(effectiveEnv(target)).tokensFile).toBeUndefined()
      }
    })

    it('when deployed to production, then reads need a token as writes do, and the other overlays keep the default', () => {
      expect(loadSettings(effectiveEnv('overlays/production')).anonymousRead).toBe(false)
      for (const target of ['base', 'overlays/minikube'] as Target[]) {
        expect(loadSettings(effectiveEnv(target)).anonymousRead).toBe(true)
      }
    })

    it('when deployed to production, then metrics are on their own port, scraped by a ServiceMonitor, with alerts and a dashboard', () => {
      const objects = objectsOf('overlays/production')
      expect(effectiveEnv('overlays/production').METRICS_PORT).toBe('9797')
      const service = must(objects, 'Service', APP)
      const monitor = must(objects, 'ServiceMonitor', APP)
      expect(selects(monitor.spec.selector.matchLabels, service.metadata.labels)).toBe(true)
      expect(monitor.spec.endpoints.map((e: K8sObject) => [e.port, e.path])).toEqual([['metrics', '/metrics']])
      expect(service.spec.ports.map((p: K8sObject) => p.name)).toContain('metrics')
      const rules = must(objects, 'PrometheusRule', APP).spec.groups.flatMap((g: K8sObject) => g.rules)
      for (const rule of rules) {
        expect([rule.alert, ['critical', 'warning'].includes(rule.labels?.severity)]).toEqual([rule.alert, true])
        expect([rule.alert, typeof rule.annotations?.summary]).toEqual([rule.alert, 'string'])
      }
      const dashboards = objects.filter((o) => o.kind === 'ConfigMap' && o.metadata.labels?.grafana_dashboard === '1')
      expect(dashboards.map((o) => Object.keys(o.data))).toEqual([['config-service.json']])
      // The overlays without the component keep /metrics where it was.
      expect(effectiveEnv('overlays/minikube').METRICS_PORT).toBeUndefined()
      expect(objectsOf('overlays/minikube').filter((o) => o.apiVersion.startsWith('monitoring.coreos.com'))).toEqual([])
    })

    it('when docs/KUBERNETES.md tells the operator what to create, then it names every Secret production expects', () => {
      const guide = readFileSync(join(ROOT, 'docs', 'KUBERNETES.md'), 'utf8')
      const missing = OPERATOR_SECRETS.filter((name) => !new RegExp(`create secret \\w+ ${name}`).test(guide))
      expect(missing).toEqual([])
    })
  })

  describe('no committed secret', () => {
    it('when the repository is searched, then no tracked manifest is a Secret and generators read only ignored files or the labelled minikube password', () => {
      const tracked = Bun.spawnSync(['git', 'ls-files', 'kustomize'], { cwd: ROOT })
        .stdout.toString()
        .trim()
        .split('\n')
      const problems: string[] = []
      for (const path of tracked.filter((p) => /\.ya?ml$/.test(p))) {
        const text = readFileSync(join(ROOT, path), 'utf8')
        if (/^kind:\s*Secret\s*$/m.test(text)) problems.push(`${path} holds a Secret`)
        if (/secretGenerator:/.test(text)) {
          if (/^\s+literals:/m.test(text.slice(text.indexOf('secretGenerator:')))) problems.push(`${path}: literals`)
          for (const file of text.matchAll(/^\s+- ([\w./-]+\.env)\s*$/gm)) {
            const envPath = join(path, '..', file[1] as string)
            if (envPath === LOCAL_DEVELOPMENT_ENV) continue
            const ignored = Bun.spawnSync(['git', 'check-ignore', '-q', envPath], { cwd: ROOT })
            if (ignored.exitCode !== 0) problems.push(`${path}: ${file[1]} is not gitignored`)
          }
        }
      }
      expect(tracked.length).toBeGreaterThan(0)
      expect(problems).toEqual([])
    })

    it('when minikube’s committed password is read, then its file and Secret say it is for local development only and no other overlay renders it', () => {
      const text = readFileSync(join(ROOT, LOCAL_DEVELOPMENT_ENV), 'utf8')
      expect(text.split('\n')[0]).toStartWith('# LOCAL DEVELOPMENT ONLY.')
      const password = secretValue('overlays/minikube', 'config-service-database', 'POSTGRES_PASSWORD')
      expect(password).toBe('local-development-only')
      const secret = objectsOf('overlays/minikube').find((o) => o.kind === 'Secret')
      expect(secret?.metadata.annotations['config-service/password']).toStartWith('local development only')
      for (const target of ['base', 'overlays/production'] as const) {
        expect([target, JSON.stringify(objectsOf(target)).includes(password)]).toEqual([target, false])
      }
    })

    it('when a container sets a literal env value, then no value looks like a credential', () => {
      for (const target of TARGETS) {
        for (const { template } of podTemplates(objectsOf(target))) {
          for (const c of [...(template.spec.initContainers ?? []), ...template.spec.containers]) {
            for (const e of c.env ?? []) {
              if (/PASSWORD|TOKEN|SECRET/.test(e.name))
                expect([e.name, e.valueFrom]).toEqual([e.name, expect.anything()])
              if (typeof e.value === 'string') expect(e.value).not.toMatch(/:\/\/[^/]*:[^/]*@/)
            }
          }
        }
      }
    })
  })
})

describe('kustomization files', () => {
  it('when labels are added, then it is with `labels`, never the deprecated `commonLabels`', () => {
    const files = Bun.spawnSync(['git', 'ls-files', '--cached', '--others', '--exclude-standard', 'kustomize'], {
      cwd: ROOT,
    })
      .stdout.toString()
      .trim()
      .split('\n')
      .filter((path) => path.endsWith('kustomization.yaml'))
    expect(files.length).toBeGreaterThanOrEqual(4)
    expect(files.filter((path) => /^commonLabels:/m.test(readFileSync(join(ROOT, path), 'utf8')))).toEqual([])
    expect(files.filter((path) => /^labels:/m.test(readFileSync(join(ROOT, path), 'utf8')))).toContain(
      'kustomize/base/kustomization.yaml',
    )
  })
})

function loadSettingsUrl(target: Target): string {
  const database = loadSettings(effectiveEnv(target)).database
  if (database.kind !== 'postgres') throw new Error(`${target} is not on PostgreSQL`)
  return database.url
}

/** The image tag `make deploy-minikube` builds, read from the script it runs. */
function deployScriptImage(): string {
  const script = readFileSync(join(ROOT, 'kustomize/minikube.sh'), 'utf8')
  const image = /^image=(\S+)$/m.exec(script)?.[1]
  if (!image) throw new Error('kustomize/minikube.sh sets no image=')
  return image
}
