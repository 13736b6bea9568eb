/**
 * Every kustomization renders with the real kubectl, and every object it renders is valid
 * against the Kubernetes OpenAPI schemas, unknown fields included.
 */
import { beforeAll, describe, expect, it } from 'bun:test'
import { kubectl, parseYamlDocuments, type Rendered, renderAll, TARGETS } from './render.ts'
import { schemaErrors, unknownFieldChecker } from './schema.ts'

if (!kubectl) {
  console.warn(
    '\n!!! kubectl is not on PATH: the Kustomize render and schema checks are SKIPPED on this machine.\n' +
      '!!! They run in CI; install kubectl to run them here.\n',
  )
}

describe.skipIf(!kubectl)('kustomize render', () => {
  let rendered: Rendered
  let unknownFields: ReturnType<typeof unknownFieldChecker>

  beforeAll(async () => {
    rendered = await renderAll()
    unknownFields = unknownFieldChecker(TARGETS.flatMap((t) => rendered.objects.get(t) ?? []))
  }, 30_000)

  for (const target of TARGETS) {
    describe(target, () => {
      it('when rendered with kubectl kustomize, then it yields objects with kind, apiVersion and name', () => {
        const objects = rendered.objects.get(target) ?? []
        expect(objects.length).toBeGreaterThan(0)
        for (const o of objects) {
          expect(typeof o.apiVersion).toBe('string')
          expect(typeof o.kind).toBe('string')
          expect(typeof o.metadata?.name).toBe('string')
        }
      })

      it('when each object is validated against the OpenAPI schemas, then none has an error', async () => {
        const errors: string[] = []
        for (const o of rendered.objects.get(target) ?? []) {
          for (const e of await schemaErrors(o)) errors.push(`${o.kind}/${o.metadata.name}: ${e}`)
        }
        expect(errors).toEqual([])
      })

      it('when each object is checked for fields its schema does not have, then there are none', () => {
        const errors = (rendered.objects.get(target) ?? []).flatMap((o) =>
          unknownFields(o).map((e) => `${o.kind}/${o.metadata.name}: ${e}`),
        )
        expect(errors).toEqual([])
      })
    })
  }
})

describe.skipIf(!kubectl)('the schema checks themselves', () => {
  const deployment = (container: Record<string, unknown>) =>
    parseYamlDocuments(
      JSON.stringify({
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata: { name: 'x', labels: { 'any/label': 'v' } },
        spec: {
          selector: { matchLabels: { a: 'b' } },
          template: {
            metadata: { labels: { a: 'b' } },
            spec: { containers: [{ name: 'x', image: 'x', ...container }] },
          },
        },
      }),
    )[0] as Parameters<typeof schemaErrors>[0]

  it('when a field has the wrong type, then the schema validation names it', async () => {
    const errors = await schemaErrors(deployment({ ports: [{ containerPort: 'http' }] }))
    expect(errors.join()).toContain('/spec/template/spec/containers/0/ports/0/containerPort')
  })

  let unknownFields: ReturnType<typeof unknownFieldChecker>
  beforeAll(() => {
    unknownFields = unknownFieldChecker([deployment({})])
  }, 30_000)

  it('when a field is misspelt, then kubernetes-models alone accepts it but the unknown-field check names it', async () => {
    const typo = deployment({ readinesProbe: { httpGet: { path: '/readyz', port: 4999 } } })
    expect(await schemaErrors(typo)).toEqual([])
    expect(unknownFields(typo)).toEqual(['/spec/template/spec/containers/0/readinesProbe is not a field of IContainer'])
  })

  it('when keys are map entries (labels, resources), then the unknown-field check accepts any name', () => {
    const object = deployment({ resources: { limits: { cpu: '1', 'example.com/gpu': '1' } } })
    expect(unknownFields(object)).toEqual([])
  })
})
