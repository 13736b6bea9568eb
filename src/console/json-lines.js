/**
 * JSON pretty-printed exactly as JSON.stringify(value, null, 2) does, but knowing the line of
 * every JSON Pointer, so that the API's field errors (`errors[].pointer`) can be shown at the
 * line they are about.
 */

/**
 * @param {unknown} value
 * @returns {{ text: string, lineOf: Map<string, number> }} lines count from 0
 */
export function prettyJson(value) {
  /** @type {string[]} */
  const lines = []
  /** @type {Map<string, number>} */
  const lineOf = new Map()
  /**
   * @param {unknown} node
   * @param {string} pointer
   * @param {string} indent
   * @param {string} key the `"name": ` before the value, if any
   * @param {string} comma
   */
  const walk = (node, pointer, indent, key, comma) => {
    lineOf.set(pointer, lines.length)
    /** @type {[string, unknown][]} */
    let children
    let open
    let close
    if (Array.isArray(node)) {
      children = node.map((item, index) => [String(index), item])
      ;[open, close] = ['[', ']']
    } else if (node !== null && typeof node === 'object') {
      children = Object.entries(node)
      ;[open, close] = ['{', '}']
    } else {
      lines.push(`${indent}${key}${JSON.stringify(node) ?? 'null'}${comma}`)
      return
    }
    if (children.length === 0) {
      lines.push(`${indent}${key}${open}${close}${comma}`)
      return
    }
    lines.push(`${indent}${key}${open}`)
    children.forEach(([name, child], index) => {
      const childKey = Array.isArray(node) ? '' : `${JSON.stringify(name)}: `
      const last = index === children.length - 1
      walk(child, `${pointer}/${escapePointer(name)}`, `${indent}  `, childKey, last ? '' : ',')
    })
    lines.push(`${indent}${close}${comma}`)
  }
  walk(value, '', '', '', '')
  return { text: lines.join('\n'), lineOf }
}

/**
 * The line a pointer is about: its own, or that of the nearest parent that exists (a missing
 * field is reported at the object that lacks it).
 * @param {Map<string, number>} lineOf
 * @param {string} pointer
 */
export function lineOfPointer(lineOf, pointer) {
  let current = pointer
  for (;;) {
    const line = lineOf.get(current)
    if (line !== undefined) return line
    if (current === '') return 0
    current = current.slice(0, current.lastIndexOf('/'))
  }
}

/** @param {string} name */
function escapePointer(name) {
  return name.replace(/~/g, '~0').replace(/\//g, '~1')
}

/**
 * The line (from 0) of a JSON syntax error, from the parser's message (V8 says "line L column C"
 * or "position P"), or undefined when it names neither.
 * @param {string} text
 * @param {string} message
 */
export function syntaxErrorLine(text, message) {
  const byLine = /line (\d+)/.exec(message)
  if (byLine) return Number(byLine[1]) - 1
  const byPosition = /position (\d+)/.exec(message)
  if (byPosition) return text.slice(0, Number(byPosition[1])).split('\n').length - 1
  return undefined
}
