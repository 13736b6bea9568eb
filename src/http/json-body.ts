/**
 * Request bodies of writes: JSON only, within the size limit, decoded strictly.
 * The limit is enforced here, while reading, so every runtime behaves the same whatever its
 * own server limit is and however the body is framed (Content-Length or chunked).
 */
import { badRequest, ProblemError } from './problem.ts'

const JSON_TYPES = /^application\/([a-z0-9.+-]+\+)?json$/

/** Oversized bodies up to this size are still answered with the 413 problem (see runtimeBodyLimit). */
const OVERSIZED_BODY_ANSWERED_BYTES = 1024 * 1024

/**
 * How much of a request body the runtime's server may take in (Bun's `maxRequestBodySize`).
 * readJsonBody refuses anything over `maxBytes` with a 413 problem, but a client that writes
 * its whole body before reading (Python's http.client, many SDKs) only gets to read that answer
 * if the server takes in the rest of the body instead of closing the connection on it. Up to
 * this bound the runtime reads and discards what the handler left unread; beyond it the runtime
 * answers on its own and may cut the upload off. Twice `maxBytes` when that is more, so that a
 * body just over a large limit is still answered here. (Deno sets no limit of its own.)
 */
export function runtimeBodyLimit(maxBytes: number): number {
  return Math.max(2 * maxBytes, OVERSIZED_BODY_ANSWERED_BYTES)
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
  let value: unknown
  try {
    value = JSON.parse(decoded)
  } catch (error) {
    const reason = error instanceof SyntaxError ? error.message : 'nested too deeply'
    throw badRequest(`the body is not valid JSON: ${reason}`)
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw badRequest('the body must be a JSON object', [{ pointer: '', message: 'expected an object' }])
  }
  return value
}

async function readLimited(request: Request, maxBytes: number): Promise<Uint8Array> {
  const tooLarge = () => new ProblemError(413, 'too-large', `the body is larger than the limit of ${maxBytes} bytes`)
  const declared = Number(request.headers.get('content-length') ?? Number.NaN)
  if (declared > maxBytes) throw tooLarge()
  if (!request.body) return new Uint8Array()
  const reader = request.body.getReader()
  const chunks: Uint8Array[] = []
  let size = 0
  for (;;) {
    const { done, value } = await reader.read()
    if (done) break
    size += value.byteLength
    if (size > maxBytes) {
      await reader.cancel().catch(() => {})
      throw tooLarge()
    }
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
