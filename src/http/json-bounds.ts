/**
 * What a JSON body may hold beyond being well-formed, checked by the body reader for every body
 * of every route, on the text, before anything walks it: how deep it nests, and that every
 * number is one a double can hold.
 *
 * Depth is measured before JSON.parse builds anything: a parsed tree tens of thousands of
 * levels deep cannot be walked, validated or printed without overflowing the stack (a 500) or
 * taking seconds and gigabytes (Elysia's validation error printed such a body whole). The scan
 * is linear and keeps a frame only for the levels allowed, so a refused body costs one pass over
 * its text; the same frames name the pointer of each number that overflows, with no walk of
 * the parsed value.
 */
import type { FieldError } from '../configs/model.ts'

/**
 * The deepest nesting a body may have: the body itself is level 1. A config's metadata may nest
 * 16 levels (model.ts says why it refuses more, with its own message); this bound sits above
 * that, for any body and any route.
 */
export const MAX_BODY_DEPTH = 32

const MAX_REPORTED = 20

interface Frame {
  array: boolean
  /** The index of the current item, in an array. */
  index: number
  /** Where the current key's string token starts and ends (its quotes included), in an object. */
  keyStart: number
  keyEnd: number
  expectingKey: boolean
}

const OPEN_OBJECT = 0x7b
const CLOSE_OBJECT = 0x7d
const OPEN_ARRAY = 0x5b
const CLOSE_ARRAY = 0x5d
const QUOTE = 0x22
const BACKSLASH = 0x5c
const COMMA = 0x2c

/** What the scan of a body's text found: where it nests too deep, and its non-finite numbers. */
export interface JsonTextBounds {
  /** The JSON Pointer of the first value nested deeper than allowed; the scan stops there. */
  tooDeep?: string
  /**
   * Numbers too large for a double (`1e400`): JSON.parse reads them as Infinity, which would be
   * stored and answered as `null`. Meaningful only for text JSON.parse accepts.
   */
  nonFinite: FieldError[]
}

/**
 * One pass over the text: it counts brackets outside strings and reads only the numbers that may
 * overflow (with an exponent, or hundreds of digits long), trusting nothing else of the text: a
 * malformed body within the bounds is left to JSON.parse to refuse.
 */
export function scanJsonText(text: string, maxDepth: number = MAX_BODY_DEPTH): JsonTextBounds {
  const frames: Frame[] = []
  const nonFinite: FieldError[] = []
  let depth = 0
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if (c === QUOTE) {
      const start = i
      for (i++; i < text.length; i++) {
        const d = text.charCodeAt(i)
        if (d === BACKSLASH) i++
        else if (d === QUOTE) break
      }
      const top = frames[depth - 1]
      if (top && !top.array && top.expectingKey) {
        top.keyStart = start
        top.keyEnd = i + 1
        top.expectingKey = false
      }
    } else if (c === OPEN_OBJECT || c === OPEN_ARRAY) {
      if (depth === maxDepth) return { tooDeep: pointerOf(text, frames.slice(0, depth)), nonFinite }
      frames[depth] = { array: c === OPEN_ARRAY, index: 0, keyStart: 0, keyEnd: 0, expectingKey: c === OPEN_OBJECT }
      depth++
    } else if (c === CLOSE_OBJECT || c === CLOSE_ARRAY) {
      if (depth > 0) depth--
    } else if (c === COMMA) {
      const top = frames[depth - 1]
      if (top?.array) top.index++
      else if (top) top.expectingKey = true
    } else if (c === MINUS || (c >= ZERO && c <= NINE)) {
      const start = i
      let exponent = false
      for (; i + 1 < text.length; i++) {
        const d = text.charCodeAt(i + 1)
        if (d === LOWER_E || d === UPPER_E) exponent = true
        else if (!NUMBER_CHARS.has(d)) break
      }
      const long = i + 1 - start > MAX_PLAIN_DIGITS
      if ((exponent || long) && nonFinite.length < MAX_REPORTED && !Number.isFinite(Number(text.slice(start, i + 1)))) {
        nonFinite.push({ pointer: pointerOf(text, frames.slice(0, depth)), message: NON_FINITE })
      }
    }
  }
  return { nonFinite }
}

const MINUS = 0x2d
const ZERO = 0x30
const NINE = 0x39
const LOWER_E = 0x65
const UPPER_E = 0x45
/** Digits, sign, point: what follows the first character of a number. */
const NUMBER_CHARS = new Set([...'0123456789+-.'].map((char) => char.charCodeAt(0)))
/** A number without an exponent overflows a double only past 308 digits. */
const MAX_PLAIN_DIGITS = 300
const NON_FINITE = 'is a number too large to be represented (it must be finite)'

function pointerOf(text: string, frames: Frame[]): string {
  return frames
    .map((frame) => `/${frame.array ? frame.index : escapePointer(keyOf(text.slice(frame.keyStart, frame.keyEnd)))}`)
    .join('')
}

function keyOf(token: string): string {
  try {
    return String(JSON.parse(token))
  } catch {
    return token
  }
}

function escapePointer(key: string): string {
  return key.replaceAll('~', '~0').replaceAll('/', '~1')
}
