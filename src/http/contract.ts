/**
 * One contract per route: what it takes (path parameters, headers, query, the body and its media
 * types) and every status it answers (body schema and media type, headers, example), with its
 * docs, in one object next to the route. Two things come from it, so they cannot drift apart:
 *
 * - `routeHook`: the hook the handler is registered with. Elysia validates `params` by it, the
 *   hook's own check validates `body` (see bodyCheck), and all three type the handler.
 * - `openApiPaths`: the route's operation in the OpenAPI document, from the same schemas.
 *
 * It also declares the route's access (route-access.ts): the action the gate, the audit trail and
 * the docs read, and where the config it acts on is named.
 *
 * Query parameters and request headers are declared here and documented, but parsed by the
 * handler's own parsers (list-query.ts, conditional.ts): list filters are open-ended
 * (`metadata.<path>=value`) and the parsers answer each mistake with its own 400 problem.
 */
import { type DocumentDecoration, getSchemaValidator, type TSchema, t } from 'elysia'
import { fieldErrors, invalidBody } from './errors.ts'
import type { RouteAccess, RouteDeclaration } from './route-access.ts'
import { standardSchema } from './schema-keywords.ts'

export interface ParameterContract {
  description: string
  /** A JSON Schema (plain values are enough for strings and numbers); a string when left out. */
  schema?: Record<string, unknown>
}

export interface ResponseContract<Schema extends TSchema | undefined = TSchema | undefined> {
  description: string
  /** The body, in `mediaType`; left out for a response without a body (204, 304). */
  schema?: Schema
  /** `application/json` when left out. */
  mediaType?: string
  example?: unknown
  /** Response headers, by name, with what they carry. */
  headers?: Record<string, string>
  /** More media types this status may answer with, such as the watch's event stream. */
  alternatives?: Record<string, { schema: Record<string, unknown>; example?: unknown }>
}

export interface RouteContract extends RouteDeclaration {
  operationId: string
  summary: string
  description?: string
  tags: readonly string[]
  params?: TSchema
  query?: Record<string, ParameterContract>
  headers?: Record<string, ParameterContract>
  body?: { schema: TSchema; mediaTypes: readonly string[]; example?: unknown }
  responses: Record<number, ResponseContract>
}

/** Checks a contract's shape while keeping its exact type (its schemas type the handler). */
export function defineRoute<const Contract extends RouteContract>(contract: Contract): Contract {
  return contract
}

/**
 * Response schemas type the handler, but Elysia does not check each answer against them at run
 * time: that cost more than the few percent it is worth on the read path (bench/README.md).
 * Every answer of the HTTP suite is checked against them instead (test/http/contracts.test.ts).
 * `noValidate` is Elysia's marker for this; the document is made from the contract's own schemas.
 */
function unchecked<Schema extends TSchema>(schema: Schema): Schema {
  return { ...schema, noValidate: true }
}

/**
 * A status without a body (204, 304) is answered with a Response the handler makes: a runtime
 * refuses any body on them (Deno even an empty one, which Elysia would give a returned
 * `undefined`). Its schema says so to the type checker; at run time there is nothing to check.
 */
const NO_BODY = unchecked(t.Undefined()) as TSchema as ReturnType<typeof t.Unsafe<Response>>

/** Each status's body schema; `undefined` for a status without a body (so the handler can answer it). */
type Responses<R> = {
  [Status in keyof R]: R[Status] extends { schema?: infer Schema extends TSchema } ? Schema : typeof NO_BODY
}

/** The Elysia hook of a route: what it validates, what it returns, and how it reads in the docs. */
export type RouteHook<Contract extends RouteContract> = {
  params: Contract['params'] extends TSchema ? Contract['params'] : undefined
  body: Contract['body'] extends { schema: infer Body extends TSchema } ? Body : undefined
  response: Responses<Contract['responses']>
  detail: DocumentDecoration
  beforeHandle?: BodyCheck
}

type BodyCheck = (context: { body: unknown; request: Request }) => void

/**
 * The body is checked against its schema here, before the handler, not by Elysia: Elysia's
 * validation error prints the whole body into its message (pretty-printed, as it is made, before
 * any error handler can map it), which for a large body takes seconds and many times its size in
 * memory. The same compiled validator; each error is named by its JSON Pointer (errors.ts).
 */
function bodyCheck(schema: TSchema): BodyCheck {
  // Compiled on the route's first body, not at start: a start would compile every route's, a
  // request needs only its own.
  let validator: ReturnType<typeof getSchemaValidator> | null = null
  return ({ body, request }) => {
    validator ??= getSchemaValidator(schema, { normalize: false, additionalProperties: false })
    if (validator && !validator.Check(body)) throw invalidBody(request, fieldErrors(validator.Errors(body)))
  }
}

export function routeHook<const Contract extends RouteContract>(contract: Contract): RouteHook<Contract> {
  const response: Record<string, TSchema> = {}
  for (const [status, declared] of Object.entries(contract.responses)) {
    response[status] = declared.schema ? unchecked(declared.schema) : NO_BODY
  }
  const hook: Record<string, unknown> = {
    response,
    detail: { operationId: contract.operationId, summary: contract.summary, tags: [...contract.tags] },
  }
  if (contract.params) hook.params = contract.params
  if (contract.body) {
    hook.body = unchecked(contract.body.schema)
    hook.beforeHandle = bodyCheck(contract.body.schema)
  }
  return hook as RouteHook<Contract>
}

/** Schemas the document names in components/schemas; wherever a contract uses one, it is referenced. */
export type NamedSchemas = Record<string, TSchema>

type Json = Record<string, unknown>

/**
 * The `paths` of the OpenAPI document for these routes. Schemas are reduced to standard JSON
 * Schema keywords (schema-keywords.ts); `security` says from a route's access whether it needs a token.
 */
export function openApiPaths(
  contracts: readonly RouteContract[],
  components: NamedSchemas,
  security: (access: RouteAccess) => Json[],
): Record<string, Record<string, Json>> {
  const names = new Map<unknown, string>(Object.entries(components).map(([name, schema]) => [schema, name]))
  const schema = (value: unknown) => standardSchema(referenced(value, names))
  const paths: Record<string, Record<string, Json>> = {}
  for (const contract of contracts) {
    const path = contract.path.replace(/:([^/]+)/g, '{$1}')
    const item = paths[path] ?? {}
    paths[path] = item
    item[contract.method.toLowerCase()] = {
      tags: [...contract.tags],
      operationId: contract.operationId,
      summary: contract.summary,
      ...(contract.description ? { description: contract.description } : {}),
      ...parametersOf(contract, schema),
      ...(contract.body ? { requestBody: requestBodyOf(contract.body, schema) } : {}),
      responses: Object.fromEntries(
        Object.entries(contract.responses).map(([status, declared]) => [status, responseOf(declared, schema)]),
      ),
      // An empty list says "no token" explicitly: left out, readers cannot tell it from "forgotten".
      security: security(contract.access),
    }
  }
  return paths
}

function parametersOf(contract: RouteContract, schema: (value: unknown) => unknown): { parameters?: Json[] } {
  const parameters: Json[] = []
  const pathProperties = (contract.params as { properties?: Record<string, Json> } | undefined)?.properties ?? {}
  for (const [name, property] of Object.entries(pathProperties)) {
    const example = (property.examples as unknown[] | undefined)?.[0]
    parameters.push({ name, in: 'path', required: true, schema: schema(property), ...withExample(example) })
  }
  for (const [place, declared] of [
    ['query', contract.query],
    ['header', contract.headers],
  ] as const) {
    for (const [name, parameter] of Object.entries(declared ?? {})) {
      parameters.push({ name, in: place, description: parameter.description, schema: parameter.schema ?? STRING })
    }
  }
  return parameters.length > 0 ? { parameters } : {}
}

function requestBodyOf(body: NonNullable<RouteContract['body']>, schema: (value: unknown) => unknown): Json {
  const example = body.example ?? (body.schema as { examples?: unknown[] }).examples?.[0]
  const media = { schema: schema(body.schema), ...withExample(example) }
  return { required: true, content: Object.fromEntries(body.mediaTypes.map((type) => [type, media])) }
}

function responseOf(declared: ResponseContract, schema: (value: unknown) => unknown): Json {
  const content: Json = {}
  if (declared.schema) {
    content[declared.mediaType ?? 'application/json'] = {
      schema: schema(declared.schema),
      ...withExample(declared.example),
    }
  }
  for (const [type, media] of Object.entries(declared.alternatives ?? {})) {
    content[type] = { schema: media.schema, ...withExample(media.example) }
  }
  const headers = Object.entries(declared.headers ?? {}).map(([name, description]) => [
    name,
    { description, schema: STRING },
  ])
  return {
    description: declared.description,
    ...(headers.length > 0 ? { headers: Object.fromEntries(headers) } : {}),
    ...(Object.keys(content).length > 0 ? { content } : {}),
  }
}

const STRING = { type: 'string' }

function withExample(example: unknown): { example?: unknown } {
  return example === undefined ? {} : { example }
}

/** A copy of `value` in which every named schema, at any depth, is a `$ref` to its component. */
function referenced(value: unknown, names: Map<unknown, string>): unknown {
  const name = names.get(value)
  if (name !== undefined) return { $ref: `#/components/schemas/${name}` }
  if (Array.isArray(value)) return value.map((item) => referenced(item, names))
  if (value === null || typeof value !== 'object') return value
  return Object.fromEntries(Object.entries(value).map(([key, sub]) => [key, referenced(sub, names)]))
}
