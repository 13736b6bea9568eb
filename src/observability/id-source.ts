/**
 * Ids made for every request (trace and span ids for the access line when no tracer runs, and
 * `X-Request-Id` when the caller sent none) from a random prefix drawn once and a counter, instead
 * of fresh random bytes each: the system's random source was a tenth of a cached read's cost.
 *
 * They stay unique: within a process by the counter, across processes and restarts by the
 * prefix (80 random bits in a trace id and a request id, 32 in a span id, which only has to
 * differ within its trace). When the 32-bit counter wraps, a new prefix is drawn. They stay
 * valid: W3C trace and span ids are lowercase hex and never all zeros (the counter part
 * starts at 1 after each draw); request ids have the shape of a version 4 UUID.
 */

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'))
const COUNTER_LIMIT = 2 ** 32

function randomHex(bytes: number): string {
  const random = crypto.getRandomValues(new Uint8Array(bytes))
  let hex = ''
  for (const byte of random) hex += HEX[byte]
  return hex
}

/** 8 hex digits, from the byte table (number-to-hex conversion costs more than the lookups). */
function counterHex(counter: number): string {
  return (
    (HEX[counter >>> 24] as string) +
    (HEX[(counter >>> 16) & 255] as string) +
    (HEX[(counter >>> 8) & 255] as string) +
    (HEX[counter & 255] as string)
  )
}

export class IdSource {
  private counter = 0
  private tracePrefix = ''
  private spanPrefix = ''
  private requestPrefix = ''

  /** 32 hex digits, a W3C trace id. */
  traceId(): string {
    const counter = counterHex(this.next())
    return `${this.tracePrefix}${counter}`
  }

  /** 16 hex digits, a W3C span id. */
  spanId(): string {
    const counter = counterHex(this.next())
    return `${this.spanPrefix}${counter}`
  }

  /** A version 4 UUID's shape: 8-4-4-4-12 hex digits, version 4, RFC 4122 variant. */
  requestId(): string {
    const counter = counterHex(this.next())
    return `${this.requestPrefix}${counter}`
  }

  private next(): number {
    if (this.counter === 0 || this.counter >= COUNTER_LIMIT - 1) this.draw()
    return ++this.counter
  }

  private draw(): void {
    this.counter = 0
    this.tracePrefix = randomHex(12)
    this.spanPrefix = randomHex(4)
    const r = randomHex(12)
    const variant = '89ab'[Number.parseInt(r.charAt(15), 16) & 3] as string
    // xxxxxxxx-xxxx-4xxx-Vxxx-xxxx, and the counter's 8 digits complete the last group.
    this.requestPrefix = `${r.slice(0, 8)}-${r.slice(8, 12)}-4${r.slice(12, 15)}-${variant}${r.slice(16, 19)}-${r.slice(19, 23)}`
  }
}

/** The process's one source: ids stay unique however many apps (tests) share the process. */
export const ids = new IdSource()
