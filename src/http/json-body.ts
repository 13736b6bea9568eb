/**
 * Request bodies of writes: JSON only, within the size and depth limits, decoded strictly.
 * The limits are enforced here, while reading and before parsing, so every runtime behaves the
 * same whatever its own server does and however the body is framed (Content-Length or chunked),
 * and every refusal is an answer of the app: logged, counted and audited like any other.
 */
import { MAX_BODY_DEPTH, scanJsonText } from './json-bounds.ts'
import { badRequest, ProblemError } from './problem.ts'

const JSON_TYPES = /^application\/([a-z0-9.+-]+\+)?json$/

/** Refused bodies up to this size (or twice the limit, if more) are still taken in; see takenInBytes. */
const REFUSED_BODY_TAKEN_IN_BYTES = 16 * 1024 * 1024

/**
 * How much of a refused body is taken in and dropped. A client that writes its whole body
 * before reading (Python's http.client, many SDKs) only gets to read the 413 if the server
 * takes in the rest of the body instead of closing the connection on it: up to this bound it
 * does (both runtimes read and drop what the handler left unread); beyond it the 413 is sent
 * with `Connection: close`, Bun closes the connection once it is sent, and such a client sees
 * the connection closed instead of the answer. Either way the app answered, so the refusal is
 * logged, counted and audited. Deno takes in the rest of any body whatever the answer says.
 */
function takenInBytes(maxBytes: number): number {
  return Math.max(2 * maxBytes, REFUSED_BODY_TAKEN_IN_BYTES)
}

/**
 * Whether a request announces a body past what is taken in of any refused body. An answer given
 * before the body reader ran (the gate's 401 and 403, a 404, 405 or 415) leaves the body to the
 * runtime, which takes all of it in: past this bound the answer closes the connection instead.
 */
export function announcesPastTakenIn(request: Request): boolean {
  return Number(request.headers.get('content-length') ?? 0) > REFUSED_BODY_TAKEN_IN_BYTES
}

/**
 * Bun's `maxRequestBodySize`: none of its own. Over its limit Bun answers a bare 413 before the
 * app sees the request, with nothing logged, counted or audited; readJsonBody refuses oversized
 * bodies instead, by their Content-Length before reading or by counting while reading, and
 * bounds what is taken in of a refused one (takenInBytes), whatever the limit.
 */
export function runtimeBodyLimit(_maxBytes: number): number {
  return Number.MAX_SAFE_INTEGER
}

export function isJsonContentType(header: string | null): boolean {
  const mediaType = mediaTypeOf(header)
  return mediaType !== undefined && JSON_TYPES.test(mediaType)
}

/**
 * PATCH bodies are JSON Merge Patches (RFC 7396). Other patch formats are JSON too, but read as
 * a merge patch a JSON Patch (RFC 6902, an array of operations) would be refused as a bad body
 * or, worse, mean something else: they are refused as a media type the service does not take.
 */
const PATCH_TYPES = new Set(['application/merge-patch+json', 'application/json'])
const ACCEPT_PATCH = { 'accept-patch': 'application/merge-patch+json' }

function mediaTypeOf(header: string | null): string | undefined {
  return header?.split(';', 1)[0]?.trim().toLowerCase()
}

export async function readJsonBody(request: Request, maxBytes: number): Promise<unknown> {
  const contentType = request.headers.get('content-type')
  if (!isJsonContentType(contentType)) {
    throw new ProblemError(
      415,
      'unsupported-media-type',
      'send the body as application/json (or application/merge-patch+json for PATCH)',
      undefined,
      ACCEPT_PATCH,
    )
  }
  if (request.method === 'PATCH' && !PATCH_TYPES.has(mediaTypeOf(contentType) ?? '')) {
    throw new ProblemError(
      415,
      'unsupported-media-type',
      `PATCH takes a JSON Merge Patch (RFC 7396) sent as application/merge-patch+json (or application/json), not ${mediaTypeOf(contentType)}`,
      undefined,
      ACCEPT_PATCH,
    )
  }
  const text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false })
  let decoded: string
  try {
    decoded = text.decode(await readLimited(request, maxBytes))
  } catch (error) {
    if (error instanceof ProblemError) throw error
    throw badRequest('the body is not valid UTF-8')
  }
  if (decoded.trim() === '') throw badRequest('the body is empty; a JSON object is required')
  const { tooDeep, nonFinite } = scanJsonText(decoded)
  if (tooDeep !== undefined) {
    throw badRequest(`the body nests deeper than ${MAX_BODY_DEPTH} levels`, [
      { pointer: tooDeep, message: `nested deeper than ${MAX_BODY_DEPTH} levels` },
    ])
  }
  let value: unknown
  try {
    value = JSON.parse(decoded)
  } catch (error) {
    throw badRequest(`the body is not valid JSON: ${(error as Error).message}`)
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw badRequest('the body must be a JSON object', [{ pointer: '', message: 'expected an object' }])
  }
  if (nonFinite.length > 0) throw badRequest('the body has numbers too large to be represented', nonFinite)
  return value
}

/**
 * A body announced (Content-Length) larger than `maxBytes` is refused without being parsed.
 * Both runtimes answer `Expect: 100-continue` with 100 Continue themselves, as the request
 * arrives and before the app sees it; such a client listens for an early answer, so its 413
 * comes as soon as the headers are in, and it may stop sending. A client that did not ask writes
 * its whole body before it reads: its body is taken in and dropped first (up to takenInBytes),
 * since an answer sent while it still writes ends, once the connection closes, in a reset that
 * loses the answer (seen on Bun with an 8 MiB body on a busy machine).
 */
async function refuseAnnouncedOversize(request: Request, maxBytes: number): Promise<void> {
  const declared = Number(request.headers.get('content-length') ?? Number.NaN)
  if (!(declared > maxBytes)) return
  const pastTakenIn = declared > takenInBytes(maxBytes)
  const listening = request.headers.get('expect')?.toLowerCase() === '100-continue'
  if (pastTakenIn || listening || !request.body) throw tooLarge(maxBytes, pastTakenIn)
  throw await refuseRest(request.body.getReader(), 0, maxBytes)
}

function tooLarge(maxBytes: number, closing: boolean): ProblemError {
  return new ProblemError(
    413,
    'too-large',
    `the body is larger than the limit of ${maxBytes} bytes`,
    undefined,
    closing ? { connection: 'close' } : {},
  )
}

async function readLimited(request: Request, maxBytes: number): Promise<Uint8Array> {
  await refuseAnnouncedOversize(request, maxBytes)
  if (!request.body) return new Uint8Array()
  const reader = request.body.getReader()
  const chunks: Uint8Array[] = []
  let size = 0
  for (;;) {
    const { done, value } = await reader.read()
    if (done) break
    size += value.byteLength
    if (size > maxBytes) throw await refuseRest(reader, size, maxBytes)
    chunks.push(value)
  }
  if (chunks.length === 1) return chunks[0] as Uint8Array
  const body = new Uint8Array(size)
  let offset = 0
  for (const chunk of chunks) {
    body.set(chunk, offset)
    offset += chunk.byteLength
  }
  return body
}

/**
 * A body of unannounced length that went over the limit: the rest is read and dropped up to
 * takenInBytes, so that the 413 can be read by a client that sends everything first; past it
 * the connection is closed after the answer (Bun left alone would take in the rest, however long).
 */
async function refuseRest(
  reader: ReadableStreamDefaultReader<Uint8Array>,
  size: number,
  maxBytes: number,
): Promise<ProblemError> {
  const bound = takenInBytes(maxBytes)
  let taken = size
  while (taken <= bound) {
    const { done, value } = await reader.read().catch(() => ({ done: true as const, value: undefined }))
    if (done) return tooLarge(maxBytes, false)
    taken += value.byteLength
  }
  await reader.cancel().catch(() => {})
  return tooLarge(maxBytes, true)
}
