/**
 * Offline validation of rendered objects against the Kubernetes OpenAPI schemas, in two parts:
 * - kubernetes-models' validators (compiled from the schemas): types, required fields, formats.
 *   They do not refuse unknown fields (a typo such as `readinesProbe` passes them). The
 *   Prometheus Operator's kinds (ServiceMonitor, PrometheusRule) come from the same project's
 *   models of its CRDs.
 * - unknownFields: every key of the object must be a property of the schema type at that
 *   place. The property lists are read from kubernetes-models' type declarations, which are
 *   generated from the same schemas, with the TypeScript checker.
 */
import { join } from 'node:path'
import ts from 'typescript'
import { ROOT } from '../support/server.ts'
import type { K8sObject } from './render.ts'

interface ModelClass {
  new (data: unknown): { validate(): void }
}

/** The package that models an apiVersion: Kubernetes' own, or a CRD's. */
function modelsOf(apiVersion: string): string {
  if (apiVersion.startsWith('monitoring.coreos.com/')) return `@kubernetes-models/prometheus-operator/${apiVersion}`
  return `kubernetes-models/${apiVersion}`
}

export async function schemaErrors(object: K8sObject): Promise<string[]> {
  let Model: ModelClass | undefined
  try {
    const module = (await import(modelsOf(object.apiVersion))) as Record<string, ModelClass>
    Model = module[object.kind]
  } catch {
    Model = undefined
  }
  if (!Model) return [`no schema for ${object.apiVersion} ${object.kind}`]
  try {
    new Model(withoutWrappedBase64(object)).validate()
    return []
  } catch (error) {
    const details = (error as { errors?: { instancePath: string; message: string }[] }).errors
    return details ? details.map((e) => `${e.instancePath} ${e.message}`) : [String(error)]
  }
}

/**
 * Kustomize writes generated Secret data as base64 wrapped over several lines. The API server
 * decodes it with Go's base64, which skips newlines; the schema's `byte` pattern does not.
 */
function withoutWrappedBase64(object: K8sObject): K8sObject {
  if (object.kind !== 'Secret' || !object.data) return object
  const data = Object.fromEntries(Object.entries(object.data).map(([k, v]) => [k, String(v).replace(/\n/g, '')]))
  return { ...object, data }
}

/** Checks keys against the schema's property lists; build once for a set of kinds. */
export function unknownFieldChecker(objects: K8sObject[]): (object: K8sObject) => string[] {
  const kinds = [...new Map(objects.map((o) => [`${o.apiVersion}/${o.kind}`, o])).values()]
  // One virtual module naming each kind's interface; the checker resolves them from node_modules.
  const file = join(ROOT, 'test/deploy/__kinds__.ts')
  const source = kinds
    .map((o, i) => `import type { I${o.kind} as K${i} } from '${modelsOf(o.apiVersion)}/${o.kind}'\n`)
    .concat(kinds.map((_, i) => `export type T${i} = K${i}\n`))
    .join('')
  // The declarations need only these globals; leaving out the standard library keeps it fast.
  const lib = join(ROOT, 'test/deploy/__lib__.d.ts')
  const libSource = ['Array<T> { length: number; [n: number]: T }', 'Boolean {}', 'Function {}', 'IArguments {}']
    .concat(['Number {}', 'Object {}', 'RegExp {}', 'String {}', 'CallableFunction {}', 'NewableFunction {}'])
    .map((declaration) => `interface ${declaration}\n`)
    .join('')
  const virtual = new Map([
    [file, source],
    [lib, libSource],
  ])
  const host = ts.createCompilerHost({})
  const readFile = host.readFile
  const fileExists = host.fileExists
  host.readFile = (f) => virtual.get(f) ?? readFile(f)
  host.fileExists = (f) => virtual.has(f) || fileExists(f)
  const program = ts.createProgram(
    [lib, file],
    {
      module: ts.ModuleKind.ESNext,
      moduleResolution: ts.ModuleResolutionKind.Bundler,
      target: ts.ScriptTarget.ES2022,
      noEmit: true,
      noLib: true,
      skipLibCheck: true,
      strict: true,
      types: [],
    },
    host,
  )
  const checker = program.getTypeChecker()
  const sourceFile = program.getSourceFile(file)
  if (!sourceFile) throw new Error('the virtual kinds module did not load')
  const typeByKind = new Map<string, ts.Type>()
  for (const statement of sourceFile.statements) {
    if (!ts.isTypeAliasDeclaration(statement)) continue
    const index = Number(statement.name.text.slice(1))
    const kind = kinds[index] as K8sObject
    const type = checker.getTypeAtLocation(statement.name)
    if (checker.getPropertiesOfType(type).length === 0) {
      throw new Error(`no type declaration for ${kind.apiVersion} ${kind.kind}`)
    }
    typeByKind.set(`${kind.apiVersion}/${kind.kind}`, type)
  }

  const walk = (value: unknown, type: ts.Type, path: string, found: string[]) => {
    const target = checker.getNonNullableType(type)
    if (Array.isArray(value)) {
      const element = arrayElement(checker, target)
      if (element) for (const [i, item] of value.entries()) walk(item, element, `${path}/${i}`, found)
      return
    }
    if (value === null || typeof value !== 'object') return
    const candidates = (target.isUnion() ? target.types : [target]).filter(
      (t) => checker.getPropertiesOfType(t).length > 0 || checker.getIndexInfoOfType(t, ts.IndexKind.String),
    )
    // No object shape here (free-form JSON such as a CRD's preserved fields): nothing to check.
    if (candidates.length === 0) return
    for (const [key, child] of Object.entries(value)) {
      const property = candidates.map((t) => checker.getPropertyOfType(t, key)).find(Boolean)
      if (property) {
        walk(child, checker.getTypeOfSymbol(property), `${path}/${key}`, found)
        continue
      }
      const index = candidates.map((t) => checker.getIndexInfoOfType(t, ts.IndexKind.String)).find(Boolean)
      if (index) walk(child, index.type, `${path}/${key}`, found)
      else found.push(`${path}/${key} is not a field of ${checker.typeToString(target)}`)
    }
  }

  return (object) => {
    const type = typeByKind.get(`${object.apiVersion}/${object.kind}`)
    if (!type) return [`no type declaration for ${object.apiVersion} ${object.kind}`]
    const found: string[] = []
    walk(object, type, '', found)
    return found
  }
}

function arrayElement(checker: ts.TypeChecker, type: ts.Type): ts.Type | undefined {
  for (const t of type.isUnion() ? type.types : [type]) {
    if (checker.isArrayType(t)) return checker.getTypeArguments(t as ts.TypeReference)[0]
  }
  return undefined
}
