/**
 * Just enough Thrift for tests to read what the Jaeger exporter sends: a decoder of the binary
 * protocol (what jaeger-client writes, both to the agent over UDP and to the collector's
 * POST /api/traces) and the few fields of jaeger.thrift's Batch that the tests look at.
 */

/** A decoded struct: field id -> value (i64 as bigint, strings as text, lists as arrays). */
export type ThriftStruct = Map<number, ThriftValue>
export type ThriftValue =
  | boolean
  | number
  | bigint
  | string
  | ThriftStruct
  | ThriftValue[]
  | Map<ThriftValue, ThriftValue>

const T = {
  STOP: 0,
  BOOL: 2,
  BYTE: 3,
  DOUBLE: 4,
  I16: 6,
  I32: 8,
  I64: 10,
  STRING: 11,
  STRUCT: 12,
  MAP: 13,
  SET: 14,
  LIST: 15,
}

class Reader {
  private offset = 0
  private readonly view: DataView
  constructor(private readonly bytes: Uint8Array) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  }

  get remaining(): number {
    return this.bytes.byteLength - this.offset
  }

  private need(count: number): number {
    if (this.offset + count > this.bytes.byteLength) {
      throw new Error(`thrift: ${count} bytes needed at offset ${this.offset}, ${this.remaining} left`)
    }
    const at = this.offset
    this.offset += count
    return at
  }

  byte = () => this.view.getInt8(this.need(1))
  i16 = () => this.view.getInt16(this.need(2))
  i32 = () => this.view.getInt32(this.need(4))
  i64 = () => this.view.getBigInt64(this.need(8))
  double = () => this.view.getFloat64(this.need(8))
  binary = () => {
    const length = this.i32()
    if (length < 0) throw new Error('thrift: negative length')
    const at = this.need(length)
    return this.bytes.subarray(at, at + length)
  }
  string = () => new TextDecoder('utf-8', { fatal: true }).decode(this.binary())

  value(type: number): ThriftValue {
    switch (type) {
      case T.BOOL:
        return this.byte() !== 0
      case T.BYTE:
        return this.byte()
      case T.DOUBLE:
        return this.double()
      case T.I16:
        return this.i16()
      case T.I32:
        return this.i32()
      case T.I64:
        return this.i64()
      case T.STRING:
        return this.string()
      case T.STRUCT:
        return this.struct()
      case T.MAP: {
        const keyType = this.byte()
        const valueType = this.byte()
        const size = this.i32()
        const map = new Map<ThriftValue, ThriftValue>()
        for (let i = 0; i < size; i++) map.set(this.value(keyType), this.value(valueType))
        return map
      }
      case T.SET:
      case T.LIST: {
        const elementType = this.byte()
        const size = this.i32()
        if (size < 0 || size > this.remaining) throw new Error(`thrift: implausible list size ${size}`)
        return Array.from({ length: size }, () => this.value(elementType))
      }
      default:
        throw new Error(`thrift: unknown type ${type}`)
    }
  }

  struct(): ThriftStruct {
    const fields: ThriftStruct = new Map()
    for (;;) {
      const type = this.byte()
      if (type === T.STOP) return fields
      fields.set(this.i16(), this.value(type))
    }
  }

  /** A message envelope, strict (version word first) or old style (name first). */
  message(): { name: string; type: number; seqid: number; args: ThriftStruct } {
    const first = this.i32()
    let name: string
    let type: number
    if (first < 0) {
      if ((first & 0xffff0000) !== (0x80010000 | 0)) throw new Error('thrift: unknown protocol version')
      type = first & 0xff
      name = this.string()
    } else {
      this.offset -= 4
      name = this.string()
      type = this.byte()
    }
    const seqid = this.i32()
    return { name, type, seqid, args: this.struct() }
  }
}

export function decodeStruct(bytes: Uint8Array): ThriftStruct {
  const reader = new Reader(bytes)
  const struct = reader.struct()
  if (reader.remaining !== 0) throw new Error(`thrift: ${reader.remaining} bytes after the struct`)
  return struct
}

export function decodeMessage(bytes: Uint8Array) {
  const reader = new Reader(bytes)
  const message = reader.message()
  if (reader.remaining !== 0) throw new Error(`thrift: ${reader.remaining} bytes after the message`)
  return message
}

export interface JaegerSpan {
  serviceName: string
  operationName: string
  /** 32 hex digits (high then low 64 bits). */
  traceId: string
  spanId: string
  parentSpanId: string
  tags: Record<string, string | number | boolean | bigint>
}

/** jaeger.thrift Batch { 1: Process { 1: serviceName }, 2: list<Span> } as flat spans. */
export function jaegerSpans(batch: ThriftStruct): JaegerSpan[] {
  const process = batch.get(1) as ThriftStruct
  const serviceName = process.get(1) as string
  return ((batch.get(2) as ThriftStruct[] | undefined) ?? []).map((span) => ({
    serviceName,
    traceId: hex64(span.get(2)) + hex64(span.get(1)),
    spanId: hex64(span.get(3)),
    parentSpanId: hex64(span.get(4)),
    operationName: span.get(5) as string,
    tags: tags((span.get(10) as ThriftStruct[] | undefined) ?? []),
  }))
}

/** Agent.emitBatch(1: Batch batch), as sent to the agent's UDP port. */
export function jaegerSpansFromAgentPacket(bytes: Uint8Array): JaegerSpan[] {
  const message = decodeMessage(bytes)
  if (message.name !== 'emitBatch') throw new Error(`thrift: unexpected call ${message.name}`)
  return jaegerSpans(message.args.get(1) as ThriftStruct)
}

function hex64(value: ThriftValue | undefined): string {
  return BigInt.asUintN(64, (value as bigint | undefined) ?? 0n)
    .toString(16)
    .padStart(16, '0')
}

/** Tag { 1: key, 2: vType, 3: vStr, 4: vDouble, 5: vBool, 6: vLong }. */
function tags(list: ThriftStruct[]): Record<string, string | number | boolean | bigint> {
  const result: Record<string, string | number | boolean | bigint> = {}
  for (const tag of list) {
    const value = [3, 4, 5, 6].map((id) => tag.get(id)).find((v) => v !== undefined)
    result[tag.get(1) as string] = value as string | number | boolean | bigint
  }
  return result
}
