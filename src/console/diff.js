/**
 * A line diff of two texts (pretty-printed configs): the longest common subsequence of their
 * lines, after the common head and tail are set aside. Configs are small (the body limit
 * bounds them), so the quadratic table is cheap; past MAX_CELLS it shows the middle as
 * replaced whole rather than spend the memory.
 */

/** @typedef {{ kind: 'same' | 'added' | 'removed', text: string }} DiffLine */

const MAX_CELLS = 4_000_000

/**
 * @param {string} before
 * @param {string} after
 * @returns {DiffLine[]}
 */
export function diffLines(before, after) {
  const a = before.split('\n')
  const b = after.split('\n')
  let head = 0
  while (head < a.length && head < b.length && a[head] === b[head]) head++
  let tail = 0
  while (tail < a.length - head && tail < b.length - head && a[a.length - 1 - tail] === b[b.length - 1 - tail]) tail++
  /** @type {DiffLine[]} */
  const lines = a.slice(0, head).map((text) => ({ kind: 'same', text }))
  lines.push(...middle(a.slice(head, a.length - tail), b.slice(head, b.length - tail)))
  for (const text of a.slice(a.length - tail)) lines.push({ kind: 'same', text })
  return lines
}

/**
 * @param {string[]} a
 * @param {string[]} b
 * @returns {DiffLine[]}
 */
function middle(a, b) {
  const n = a.length
  const m = b.length
  /** @type {(kind: DiffLine['kind']) => (text: string) => DiffLine} */
  const as = (kind) => (text) => ({ kind, text })
  if (n * m > MAX_CELLS) return [...a.map(as('removed')), ...b.map(as('added'))]
  // common[i * (m + 1) + j]: length of the LCS of a[i..] and b[j..]
  const common = new Uint32Array((n + 1) * (m + 1))
  for (let i = n - 1; i >= 0; i--) {
    for (let j = m - 1; j >= 0; j--) {
      common[i * (m + 1) + j] =
        a[i] === b[j]
          ? (common[(i + 1) * (m + 1) + j + 1] ?? 0) + 1
          : Math.max(common[(i + 1) * (m + 1) + j] ?? 0, common[i * (m + 1) + j + 1] ?? 0)
    }
  }
  /** @type {DiffLine[]} */
  const lines = []
  let i = 0
  let j = 0
  while (i < n && j < m) {
    if (a[i] === b[j]) {
      lines.push({ kind: 'same', text: a[i++] ?? '' })
      j++
    } else if ((common[(i + 1) * (m + 1) + j] ?? 0) >= (common[i * (m + 1) + j + 1] ?? 0)) {
      lines.push({ kind: 'removed', text: a[i++] ?? '' })
    } else {
      lines.push({ kind: 'added', text: b[j++] ?? '' })
    }
  }
  while (i < n) lines.push({ kind: 'removed', text: a[i++] ?? '' })
  while (j < m) lines.push({ kind: 'added', text: b[j++] ?? '' })
  return lines
}
