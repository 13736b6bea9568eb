/**
 * Request bodies of writes: JSON only, within the size limit, decoded strictly.
 * The limit is enforced here, while reading, so every runtime behaves the same whatever its
 * own server limit is and however the body is framed (Content-Length or chunked).
 */
import { badRequest, ProblemError } from './problem.ts'

const JSON_TYPES = /^application\/([a-z0-9.+-]+\+)?json$/

export function isJsonContentType(header: string | null): boolean {
  const mediaType = header?.split(';', 1)[0]?.trim().toLowerCase()
  return mediaType !== undefined && JSON_TYPES.test(mediaType)
}

export async function readJsonBody(request: Request, maxBytes: number): Promise<unknown> {
  if (!isJsonContentType(request.headers.get('content-type'))) {
    throw new ProblemError(
      415,
      'unsupported-media-type',
      'send the body as application/json (or application/merge-patch+json for PATCH)',
      undefined,
      { 'accept-patch': 'application/merge-patch+json' },
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
