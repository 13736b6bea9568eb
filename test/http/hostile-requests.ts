/**
 * Hostile and malformed requests, each with the 4xx it must answer: the table of
 * bad-input.test.ts, also checked against the routes' declared responses (contracts.test.ts).
 */

export interface HostileRequest {
  name: string
  method: string
  path: string
  /** A JSON value to send (content type application/json). */
  body?: unknown
  /** Bytes or text to send as they are. */
  raw?: RequestInit['body']
  headers?: Record<string, string>
  auth?: boolean
  status: number
  /** A JSON Pointer expected in the problem's errors. */
  pointer?: string
  /** What the error at `pointer` should say (the cause, when a value fails several checks). */
  message?: RegExp
  /** Text of the body that the answer must not echo. */
  notEchoed?: string
}

const json = { 'content-type': 'application/json' }
const nested = (levels: number): unknown => {
  let value: unknown = 'leaf'
  for (let i = 0; i < levels; i++) value = { n: value }
  return value
}
/** The README's bound on how deep any body may nest; the body itself is level 1. */
const MAX_BODY_DEPTH = 32
/** JSON arrays nested `levels` deep: 32,000 levels are 64 kB, within the body limit. */
const deepArrays = (levels: number) => `${'['.repeat(levels)}${']'.repeat(levels)}`
/** The pointer of the first array too deep in `deepArrays` held by `/key` of the body. */
const tooDeepUnder = (key: string) => `/${key}${'/0'.repeat(MAX_BODY_DEPTH - 1)}`
const dripping = (bytes: number): ReadableStream<Uint8Array> => {
  let sent = 0
  return new ReadableStream({
    pull(controller) {
      if (sent >= bytes) return controller.close()
      const chunk = new TextEncoder().encode('x'.repeat(8192))
      sent += chunk.byteLength
      controller.enqueue(chunk)
    },
  })
}

/** The table, for a run whose configs start with `p`; `existing` is a config created beforehand. */
export function hostileRequests(p: string, existing: string): HostileRequest[] {
  return [
    // Malformed bodies
    { name: 'malformed JSON', method: 'POST', path: '/configs', raw: '{"dcname": ', headers: json, status: 400 },
    {
      name: 'JSON with a trailing comma',
      method: 'POST',
      path: '/configs',
      raw: '{"dcname":"a","metadata":{},}',
      headers: json,
      status: 400,
    },
    { name: 'a JSON array', method: 'POST', path: '/configs', raw: '[]', headers: json, status: 400 },
    { name: 'a JSON string', method: 'POST', path: '/configs', raw: '"config"', headers: json, status: 400 },
    { name: 'JSON null', method: 'POST', path: '/configs', raw: 'null', headers: json, status: 400 },
    { name: 'an empty body', method: 'POST', path: '/configs', raw: '', headers: json, status: 400 },
    {
      name: 'invalid UTF-8',
      method: 'POST',
      path: '/configs',
      raw: new Uint8Array([0x7b, 0xff, 0xfe, 0x7d]),
      headers: json,
      status: 400,
    },
    // Wrong types and shapes
    {
      name: 'dcname as a number',
      method: 'POST',
      path: '/configs',
      body: { dcname: 42, metadata: {} },
      status: 400,
      pointer: '/dcname',
    },
    {
      name: 'missing dcname',
      method: 'POST',
      path: '/configs',
      body: { metadata: {} },
      status: 400,
      pointer: '/dcname',
      message: /missing/,
    },
    {
      name: 'missing metadata',
      method: 'POST',
      path: '/configs',
      body: { dcname: `${p}-a` },
      status: 400,
      pointer: '/metadata',
      message: /missing/,
    },
    { name: 'an empty object', method: 'POST', path: '/configs', body: {}, status: 400, pointer: '/metadata' },
    {
      name: 'PUT without metadata',
      method: 'PUT',
      path: `/configs/${existing}`,
      body: {},
      status: 400,
      pointer: '/metadata',
      message: /missing/,
    },
    {
      name: 'metadata as an array',
      method: 'POST',
      path: '/configs',
      body: { dcname: `${p}-a`, metadata: [] },
      status: 400,
      pointer: '/metadata',
    },
    {
      name: 'metadata as a string',
      method: 'POST',
      path: '/configs',
      body: { dcname: `${p}-a`, metadata: 'x' },
      status: 400,
      pointer: '/metadata',
    },
    {
      name: 'metadata null',
      method: 'POST',
      path: '/configs',
      body: { dcname: `${p}-a`, metadata: null },
      status: 400,
      pointer: '/metadata',
    },
    {
      name: 'an unknown top-level field',
      method: 'POST',
      path: '/configs',
      body: { dcname: `${p}-a`, metadata: {}, revision: 9 },
      status: 400,
      pointer: '/revision',
    },
    {
      name: 'monitoring.enabled "yes"',
      method: 'POST',
      path: '/configs',
      body: { dcname: `${p}-a`, metadata: { monitoring: { enabled: 'yes' } } },
      status: 400,
      pointer: '/metadata/monitoring/enabled',
    },
    {
      name: 'monitoring.enabled 1',
      method: 'POST',
      path: '/configs',
      body: { dcname: `${p}-a`, metadata: { monitoring: { enabled: 1 } } },
      status: 400,
      pointer: '/metadata/monitoring/enabled',
    },
    {
      name: 'monitoring not an object',
      method: 'POST',
      path: '/configs',
      body: { dcname: `${p}-a`, metadata: { monitoring: true } },
      status: 400,
      pointer: '/metadata/monitoring',
    },
    {
      name: 'a limit value that is no quantity',
      method: 'POST',
      path: '/configs',
      body: { dcname: `${p}-a`, metadata: { limits: { cpu: { value: 'lots' } } } },
      status: 400,
      pointer: '/metadata/limits/cpu/value',
    },
    {
      name: 'a limit value as a number',
      method: 'POST',
      path: '/configs',
      body: { dcname: `${p}-a`, metadata: { limits: { cpu: { value: 500 } } } },
      status: 400,
      pointer: '/metadata/limits/cpu/value',
    },
    {
      name: 'a limit that is not an object',
      method: 'POST',
      path: '/configs',
      body: { dcname: `${p}-a`, metadata: { limits: { cpu: '1' } } },
      status: 400,
      pointer: '/metadata/limits/cpu',
    },
    {
      name: 'limit.enabled "on"',
      method: 'POST',
      path: '/configs',
      body: { dcname: `${p}-a`, metadata: { limits: { mem: { enabled: 'on' } } } },
      status: 400,
      pointer: '/metadata/limits/mem/enabled',
    },
    // Odd dcnames
    {
      name: 'an empty dcname',
      method: 'POST',
      path: '/configs',
      body: { dcname: '', metadata: {} },
      status: 400,
      pointer: '/dcname',
    },
    {
      name: 'a 254-character dcname',
      method: 'POST',
      path: '/configs',
      body: { dcname: 'a'.repeat(254), metadata: {} },
      status: 400,
      pointer: '/dcname',
    },
    {
      name: 'a dcname with a slash',
      method: 'POST',
      path: '/configs',
      body: { dcname: 'a/b', metadata: {} },
      status: 400,
      pointer: '/dcname',
    },
    {
      name: 'a dcname of dots only',
      method: 'POST',
      path: '/configs',
      body: { dcname: '..', metadata: {} },
      status: 400,
      pointer: '/dcname',
    },
    {
      name: 'a unicode dcname',
      method: 'POST',
      path: '/configs',
      body: { dcname: 'dç-1', metadata: {} },
      status: 400,
      pointer: '/dcname',
    },
    {
      name: 'a dcname starting with a dash',
      method: 'POST',
      path: '/configs',
      body: { dcname: '-a', metadata: {} },
      status: 400,
      pointer: '/dcname',
    },
    {
      name: 'a dcname ending with a dot',
      method: 'POST',
      path: '/configs',
      body: { dcname: 'a.', metadata: {} },
      status: 400,
      pointer: '/dcname',
    },
    {
      name: 'a dcname with a space',
      method: 'POST',
      path: '/configs',
      body: { dcname: 'a b', metadata: {} },
      status: 400,
      pointer: '/dcname',
    },
    {
      name: 'a dcname with a NUL byte',
      method: 'POST',
      path: '/configs',
      body: { dcname: 'a\u0000b', metadata: {} },
      status: 400,
      pointer: '/dcname',
    },
    { name: 'URL-encoded traversal in the path', method: 'GET', path: '/configs/..%2F..%2Fetc%2Fpasswd', status: 400 },
    {
      name: 'an encoded slash and dots in the path',
      method: 'PUT',
      path: '/configs/a%2F..%2F..',
      body: { metadata: {} },
      status: 400,
    },
    { name: 'a unicode dcname in the path', method: 'DELETE', path: '/configs/d%C3%A7-1', status: 400 },
    {
      name: 'a 10,000-character dcname in the path',
      method: 'GET',
      path: `/configs/${'a'.repeat(10_000)}`,
      status: 400,
    },
    // Prototype pollution and nesting
    {
      name: 'a __proto__ key at the top',
      method: 'POST',
      path: '/configs',
      raw: `{"dcname":"${p}-a","metadata":{},"__proto__":{"polluted":true}}`,
      headers: json,
      status: 400,
      pointer: '/__proto__',
    },
    {
      name: 'a __proto__ key in metadata',
      method: 'POST',
      path: '/configs',
      raw: `{"dcname":"${p}-a","metadata":{"__proto__":{"polluted":true}}}`,
      headers: json,
      status: 400,
      pointer: '/metadata/__proto__',
    },
    {
      name: 'a constructor key',
      method: 'POST',
      path: '/configs',
      body: { dcname: `${p}-a`, metadata: { x: { constructor: { prototype: 1 } } } },
      status: 400,
      pointer: '/metadata/x/constructor',
    },
    {
      name: 'a prototype key in an array item',
      method: 'POST',
      path: '/configs',
      body: { dcname: `${p}-a`, metadata: { x: [{ prototype: 1 }] } },
      status: 400,
      pointer: '/metadata/x/0/prototype',
    },
    {
      name: 'a __proto__ key in a patch',
      method: 'PATCH',
      path: `/configs/${existing}`,
      raw: '{"metadata":{"__proto__":{"polluted":true}}}',
      headers: json,
      status: 400,
      pointer: '/metadata/__proto__',
    },
    {
      name: 'metadata nested 17 levels',
      method: 'POST',
      path: '/configs',
      body: { dcname: `${p}-a`, metadata: nested(17) },
      status: 400,
    },
    {
      name: 'JSON nested 20,000 levels',
      method: 'POST',
      path: '/configs',
      raw: `{"dcname":"${p}-a","metadata":${'['.repeat(20_000)}${']'.repeat(20_000)}}`,
      headers: json,
      status: 400,
    },
    // Deep nesting anywhere in any body, refused before it is parsed
    {
      name: 'a POST nested 32,000 levels outside metadata',
      method: 'POST',
      path: '/configs',
      raw: `{"dcname":"${p}-a","metadata":{},"x":${deepArrays(32_000)}}`,
      headers: json,
      status: 400,
      pointer: tooDeepUnder('x'),
    },
    {
      name: 'a dcname nested 32,000 levels',
      method: 'POST',
      path: '/configs',
      raw: `{"dcname":${deepArrays(32_000)},"metadata":{}}`,
      headers: json,
      status: 400,
      pointer: tooDeepUnder('dcname'),
    },
    {
      name: 'a PUT nested 32,000 levels outside metadata',
      method: 'PUT',
      path: `/configs/${existing}`,
      raw: `{"metadata":{},"x":${deepArrays(32_000)}}`,
      headers: json,
      status: 400,
      pointer: tooDeepUnder('x'),
    },
    {
      name: 'a PATCH nested 32,000 levels outside metadata',
      method: 'PATCH',
      path: `/configs/${existing}`,
      raw: `{"x":${deepArrays(32_000)}}`,
      headers: json,
      status: 400,
      pointer: tooDeepUnder('x'),
    },
    {
      name: 'a rollback revision nested 32,000 levels',
      method: 'POST',
      path: `/configs/${existing}/rollback`,
      raw: `{"revision":${deepArrays(32_000)}}`,
      headers: json,
      status: 400,
      pointer: tooDeepUnder('revision'),
    },
    // Numbers a double cannot hold (JSON.parse reads Infinity, which would be stored as null)
    {
      name: 'a POST with 1e400 in metadata',
      method: 'POST',
      path: '/configs',
      raw: `{"dcname":"${p}-a","metadata":{"x":1e400}}`,
      headers: json,
      status: 400,
      pointer: '/metadata/x',
    },
    {
      name: 'a PUT with -1e400 in an array',
      method: 'PUT',
      path: `/configs/${existing}`,
      raw: '{"metadata":{"a/b":[1,-1e400]}}',
      headers: json,
      status: 400,
      pointer: '/metadata/a~1b/1',
    },
    {
      name: 'a PATCH with a 400-digit integer',
      method: 'PATCH',
      path: `/configs/${existing}`,
      raw: `{"metadata":{"big":${'9'.repeat(400)}}}`,
      headers: json,
      status: 400,
      pointer: '/metadata/big',
    },
    // Validation errors name the field, never echo its value
    {
      name: 'a dcname that is an array of text',
      method: 'POST',
      path: '/configs',
      body: { dcname: ['echo-canary-7f3a'], metadata: {} },
      status: 400,
      pointer: '/dcname',
      notEchoed: 'echo-canary-7f3a',
    },
    // Size and content type
    {
      name: 'a body over the limit',
      method: 'POST',
      path: '/configs',
      raw: JSON.stringify({ dcname: `${p}-a`, metadata: { x: 'y'.repeat(100_000) } }),
      headers: json,
      status: 413,
    },
    {
      name: 'a chunked body over the limit',
      method: 'POST',
      path: '/configs',
      raw: dripping(200_000),
      headers: json,
      status: 413,
    },
    {
      name: 'text/plain',
      method: 'POST',
      path: '/configs',
      raw: '{"dcname":"a","metadata":{}}',
      headers: { 'content-type': 'text/plain' },
      status: 415,
    },
    {
      name: 'no content type',
      method: 'PUT',
      path: `/configs/${existing}`,
      raw: new Blob(['{"metadata":{}}']),
      status: 415,
    },
    {
      name: 'a form body',
      method: 'POST',
      path: '/configs',
      raw: 'dcname=a',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      status: 415,
    },
    {
      name: 'multipart',
      method: 'PATCH',
      path: `/configs/${existing}`,
      raw: '--b\r\n\r\n--b--',
      headers: { 'content-type': 'multipart/form-data; boundary=b' },
      status: 415,
    },
    // Conflicts and semantics
    {
      name: 'a duplicate POST',
      method: 'POST',
      path: '/configs',
      body: { dcname: existing, metadata: { changed: true } },
      status: 409,
    },
    {
      name: 'PUT with a mismatched dcname',
      method: 'PUT',
      path: `/configs/${existing}`,
      body: { dcname: `${p}-other`, metadata: {} },
      status: 400,
      pointer: '/dcname',
    },
    {
      name: 'PATCH that renames',
      method: 'PATCH',
      path: `/configs/${existing}`,
      body: { dcname: `${p}-other` },
      status: 400,
      pointer: '/dcname',
    },
    {
      name: 'PATCH that removes metadata',
      method: 'PATCH',
      path: `/configs/${existing}`,
      body: { metadata: null },
      status: 400,
      pointer: '/metadata',
    },
    {
      name: 'PATCH with an unknown top-level field',
      method: 'PATCH',
      path: `/configs/${existing}`,
      body: { owner: 'x' },
      status: 400,
      pointer: '/owner',
    },
    {
      name: 'PATCH that breaks a typed field',
      method: 'PATCH',
      path: `/configs/${existing}`,
      body: { metadata: { monitoring: { enabled: 'maybe' } } },
      status: 400,
      pointer: '/metadata/monitoring/enabled',
    },
    {
      name: 'a stale If-Match',
      method: 'PUT',
      path: `/configs/${existing}`,
      body: { metadata: {} },
      headers: { 'if-match': '"1"' },
      status: 412,
    },
    {
      name: 'a malformed If-Match',
      method: 'DELETE',
      path: `/configs/${existing}`,
      headers: { 'if-match': 'yesterday' },
      status: 400,
    },
    {
      name: 'If-None-Match on PATCH',
      method: 'PATCH',
      path: `/configs/${existing}`,
      body: { metadata: {} },
      headers: { 'if-none-match': '*' },
      status: 400,
    },
    // Queries
    { name: 'an unknown query parameter', method: 'GET', path: '/search?colour=red', status: 400 },
    { name: 'limit=0', method: 'GET', path: '/configs?limit=0', status: 400 },
    { name: 'limit over the maximum', method: 'GET', path: '/configs?limit=10001', status: 400 },
    { name: 'a non-numeric limit', method: 'GET', path: '/search?limit=ten', status: 400 },
    { name: 'a forged cursor', method: 'GET', path: '/configs?cursor=%2F%2F%2F', status: 400 },
    { name: 'a filter path with odd characters', method: 'GET', path: '/search?metadata.a%24b=1', status: 400 },
    { name: 'a repeated query parameter', method: 'GET', path: '/search?metadata.a=1&metadata.a=2', status: 400 },
    // History, reads at a revision and rollback
    ...['0', '-1', '1.5', 'abc', '99999999999999999999', '1e3'].map((revision) => ({
      name: `a read at revision=${revision}`,
      method: 'GET',
      path: `/configs/${existing}?revision=${revision}`,
      status: 400,
    })),
    { name: 'a repeated revision', method: 'GET', path: `/configs/${existing}?revision=1&revision=2`, status: 400 },
    { name: 'history with limit=0', method: 'GET', path: `/configs/${existing}/history?limit=0`, status: 400 },
    {
      name: 'history with a forged cursor',
      method: 'GET',
      path: `/configs/${existing}/history?cursor=x.y`,
      status: 400,
    },
    {
      name: 'history with an unknown parameter',
      method: 'GET',
      path: `/configs/${existing}/history?since=1`,
      status: 400,
    },
    ...[0, -1, 1.5, 1e300, '1', null, true].map((revision) => ({
      name: `a rollback to ${JSON.stringify(revision)}`,
      method: 'POST',
      path: `/configs/${existing}/rollback`,
      body: { revision },
      status: 400,
      pointer: '/revision',
    })),
    {
      name: 'a rollback without a revision',
      method: 'POST',
      path: `/configs/${existing}/rollback`,
      body: {},
      status: 400,
      pointer: '/revision',
    },
    {
      name: 'a rollback with an unknown field',
      method: 'POST',
      path: `/configs/${existing}/rollback`,
      body: { revision: 1, to: 2 },
      status: 400,
      pointer: '/to',
    },
    {
      name: 'a rollback with a __proto__ key',
      method: 'POST',
      path: `/configs/${existing}/rollback`,
      raw: '{"revision":1,"__proto__":{"polluted":true}}',
      headers: json,
      status: 400,
      pointer: '/__proto__',
    },
    {
      name: 'a rollback body that is malformed JSON',
      method: 'POST',
      path: `/configs/${existing}/rollback`,
      raw: '{"revision": ',
      headers: json,
      status: 400,
    },
    {
      name: 'a rollback body that is an array',
      method: 'POST',
      path: `/configs/${existing}/rollback`,
      raw: '[1]',
      headers: json,
      status: 400,
    },
    {
      name: 'a rollback body over the limit',
      method: 'POST',
      path: `/configs/${existing}/rollback`,
      raw: JSON.stringify({ revision: 1, pad: 'y'.repeat(100_000) }),
      headers: json,
      status: 413,
    },
    {
      name: 'a rollback sent as text/plain',
      method: 'POST',
      path: `/configs/${existing}/rollback`,
      raw: '{"revision":1}',
      headers: { 'content-type': 'text/plain' },
      status: 415,
    },
    {
      name: 'a rollback sent as a form',
      method: 'POST',
      path: `/configs/${existing}/rollback`,
      raw: 'revision=1',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      status: 415,
    },
    {
      name: 'a rollback with a malformed If-Match',
      method: 'POST',
      path: `/configs/${existing}/rollback`,
      body: { revision: 1 },
      headers: { 'if-match': 'W/"1"' },
      status: 400,
    },
    {
      name: 'a rollback with If-None-Match',
      method: 'POST',
      path: `/configs/${existing}/rollback`,
      body: { revision: 1 },
      headers: { 'if-none-match': '*' },
      status: 400,
    },
    {
      name: 'a rollback to a revision before the config existed',
      method: 'POST',
      path: `/configs/${existing}/rollback`,
      body: { revision: 1 },
      status: 404,
    },
    {
      name: 'a rollback without a token',
      method: 'POST',
      path: `/configs/${existing}/rollback`,
      body: { revision: 1 },
      auth: false,
      status: 401,
    },
    { name: 'a wrong method on history', method: 'DELETE', path: `/configs/${existing}/history`, status: 405 },
    { name: 'GET on rollback', method: 'GET', path: `/configs/${existing}/rollback`, status: 405 },
    // Routing and auth
    { name: 'a wrong method', method: 'DELETE', path: '/configs', status: 405 },
    { name: 'an unknown route', method: 'GET', path: '/configs/a/b/c', status: 404 },
    { name: 'a write without a token', method: 'DELETE', path: `/configs/${existing}`, auth: false, status: 401 },
    {
      name: 'a write with a wrong token',
      method: 'PUT',
      path: `/configs/${existing}`,
      body: { metadata: {} },
      auth: false,
      headers: { authorization: 'Bearer nope' },
      status: 401,
    },
    {
      name: 'a Basic authorization header',
      method: 'PATCH',
      path: `/configs/${existing}`,
      body: { metadata: {} },
      auth: false,
      headers: { authorization: 'Basic YTpi' },
      status: 401,
    },
  ]
}
