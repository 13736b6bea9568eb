/**
 * A strict parser of the Prometheus text exposition format 0.0.4, for tests: every line must
 * parse, and what a scraper would silently accept or drop is an error here (a sample before its
 * TYPE, a family split in two, a duplicate series, a histogram whose buckets do not add up).
 */

export type MetricType = 'counter' | 'gauge' | 'histogram' | 'summary' | 'untyped'

export interface Sample {
  /** The sample's own name, e.g. `http_request_duration_seconds_bucket`. */
  name: string
  labels: Record<string, string>
  value: number
  timestamp?: number
}

export interface Family {
  name: string
  type: MetricType
  help?: string
  samples: Sample[]
}

export class ExpositionError extends Error {
  constructor(lineNumber: number, line: string, problem: string) {
    super(`line ${lineNumber}: ${problem}: ${JSON.stringify(line)}`)
    this.name = 'ExpositionError'
  }
}

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/
const TYPES = new Set<MetricType>(['counter', 'gauge', 'histogram', 'summary', 'untyped'])

export function parseExposition(text: string): Map<string, Family> {
  if (text !== '' && !text.endsWith('\n'))
    throw new ExpositionError(0, text.slice(-40), 'the text must end with a newline')
  const families = new Map<string, Family>()
  const finished = new Set<string>()
  const seriesSeen = new Set<string>()
  const typed = new Set<string>()
  let current: Family | undefined
  const lines = text.split('\n')
  lines.pop()

  const enter = (name: string, lineNumber: number, line: string): Family => {
    if (current?.name === name) return current
    if (current) finished.add(current.name)
    if (finished.has(name)) throw new ExpositionError(lineNumber, line, `the lines of ${name} are not together`)
    let family = families.get(name)
    if (!family) {
      family = { name, type: 'untyped', samples: [] }
      families.set(name, family)
    }
    current = family
    return family
  }

  lines.forEach((line, index) => {
    const n = index + 1
    if (line.trim() === '') return
    if (line.startsWith('#')) {
      const match = /^#\s+(HELP|TYPE)\s+(\S+)(?:\s(.*))?$/.exec(line)
      if (!match) {
        if (/^#\s*(HELP|TYPE)\b/.test(line)) throw new ExpositionError(n, line, 'malformed HELP or TYPE line')
        return // an ordinary comment
      }
      const [, keyword, name = '', rest = ''] = match
      if (!METRIC_NAME.test(name)) throw new ExpositionError(n, line, 'invalid metric name')
      const family = enter(name, n, line)
      if (keyword === 'HELP') {
        if (family.help !== undefined) throw new ExpositionError(n, line, 'a second HELP line')
        family.help = unescapeText(rest, false, n, line)
      } else {
        if (family.samples.length > 0) throw new ExpositionError(n, line, 'TYPE after samples of the family')
        if (typed.has(name)) throw new ExpositionError(n, line, 'a second TYPE line')
        if (!TYPES.has(rest as MetricType)) throw new ExpositionError(n, line, `unknown type ${JSON.stringify(rest)}`)
        family.type = rest as MetricType
        typed.add(name)
      }
      return
    }
    const sample = parseSample(line, n)
    const family = enter(familyName(sample.name, current), n, line)
    const key = `${sample.name}${JSON.stringify(Object.entries(sample.labels).sort())}`
    if (seriesSeen.has(key)) throw new ExpositionError(n, line, 'a duplicate series')
    seriesSeen.add(key)
    family.samples.push(sample)
  })

  for (const family of families.values()) checkFamily(family)
  return families
}

/** Which family a sample belongs to: `x_bucket`, `x_sum`, `x_count` belong to histogram (or summary) `x`. */
function familyName(sampleName: string, current: Family | undefined): string {
  if (current && (current.type === 'histogram' || current.type === 'summary')) {
    const suffixes = current.type === 'histogram' ? ['_bucket', '_sum', '_count'] : ['', '_sum', '_count']
    if (suffixes.some((suffix) => sampleName === `${current.name}${suffix}`)) return current.name
  }
  return sampleName
}

function parseSample(line: string, n: number): Sample {
  const nameMatch = /^[a-zA-Z_:][a-zA-Z0-9_:]*/.exec(line)
  if (!nameMatch) throw new ExpositionError(n, line, 'a sample must start with a metric name')
  const name = nameMatch[0]
  let pos = name.length
  const labels: Record<string, string> = {}
  if (line[pos] === '{') {
    pos++
    while (line[pos] !== '}') {
      const labelMatch = /^[a-zA-Z_][a-zA-Z0-9_]*/.exec(line.slice(pos))
      if (!labelMatch || !LABEL_NAME.test(labelMatch[0])) throw new ExpositionError(n, line, 'invalid label name')
      const labelName = labelMatch[0]
      pos += labelName.length
      if (line.slice(pos, pos + 2) !== '="') throw new ExpositionError(n, line, `label ${labelName} needs ="value"`)
      pos += 2
      let raw = ''
      for (;;) {
        const char = line[pos]
        if (char === undefined) throw new ExpositionError(n, line, 'unterminated label value')
        if (char === '"') break
        if (char === '\\') {
          raw += char + (line[pos + 1] ?? '')
          pos += 2
          continue
        }
        raw += char
        pos++
      }
      pos++
      if (labelName in labels) throw new ExpositionError(n, line, `label ${labelName} given twice`)
      if (labelName.startsWith('__')) throw new ExpositionError(n, line, `label ${labelName} is reserved`)
      labels[labelName] = unescapeText(raw, true, n, line)
      if (line[pos] === ',') pos++
      else if (line[pos] !== '}') throw new ExpositionError(n, line, 'expected , or } after a label')
    }
    pos++
  }
  const rest = line.slice(pos)
  const match = /^[ \t]+(\S+)(?:[ \t]+(-?\d+))?[ \t]*$/.exec(rest)
  if (!match) throw new ExpositionError(n, line, 'expected " value [timestamp]" after the name and labels')
  const value = parseValue(match[1] ?? '', n, line)
  const sample: Sample = { name, labels, value }
  if (match[2] !== undefined) sample.timestamp = Number(match[2])
  return sample
}

function parseValue(text: string, n: number, line: string): number {
  if (text === '+Inf') return Number.POSITIVE_INFINITY
  if (text === '-Inf') return Number.NEGATIVE_INFINITY
  if (text === 'NaN') return Number.NaN
  if (!/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(text)) throw new ExpositionError(n, line, `invalid value ${text}`)
  return Number(text)
}

/** HELP escapes `\\` and `\n`; label values also escape `\"`. Any other escape is an error. */
function unescapeText(text: string, quoted: boolean, n: number, line: string): string {
  return text.replace(/\\(.?)/g, (_whole, next: string) => {
    if (next === '\\') return '\\'
    if (next === 'n') return '\n'
    if (next === '"' && quoted) return '"'
    throw new ExpositionError(n, line, `invalid escape \\${next}`)
  })
}

function checkFamily(family: Family): void {
  const fail = (problem: string) => {
    throw new ExpositionError(0, family.name, problem)
  }
  for (const sample of family.samples) {
    if (family.type === 'counter' && !(sample.value >= 0)) fail(`counter ${sample.name} is negative or NaN`)
    if (family.type === 'histogram' && sample.name === family.name) fail('a histogram sample without a suffix')
  }
  if (family.type !== 'histogram') return
  // Group by the labels other than `le`: each series needs ascending cumulative buckets ending
  // in +Inf, and a count equal to the +Inf bucket, and a sum.
  const series = new Map<string, { buckets: [number, number][]; sum?: number; count?: number }>()
  for (const sample of family.samples) {
    const { le, ...rest } = sample.labels
    const key = JSON.stringify(Object.entries(rest).sort())
    let entry = series.get(key)
    if (!entry) {
      entry = { buckets: [] }
      series.set(key, entry)
    }
    if (sample.name.endsWith('_bucket')) {
      if (le === undefined) fail('a bucket without le')
      entry.buckets.push([le === '+Inf' ? Number.POSITIVE_INFINITY : Number(le), sample.value])
    } else if (le !== undefined) {
      fail(`${sample.name} carries le`)
    } else if (sample.name.endsWith('_sum')) {
      entry.sum = sample.value
    } else {
      entry.count = sample.value
    }
  }
  for (const [key, { buckets, sum, count }] of series) {
    if (buckets.length === 0 || sum === undefined || count === undefined)
      fail(`series ${key} lacks buckets, sum or count`)
    for (let i = 1; i < buckets.length; i++) {
      const [bound, value] = buckets[i] as [number, number]
      const [previousBound, previousValue] = buckets[i - 1] as [number, number]
      if (!(bound > previousBound)) fail(`series ${key}: bucket bounds are not ascending`)
      if (value < previousValue) fail(`series ${key}: buckets are not cumulative`)
    }
    const last = buckets.at(-1) as [number, number]
    if (last[0] !== Number.POSITIVE_INFINITY) fail(`series ${key}: no +Inf bucket`)
    if (last[1] !== count) fail(`series ${key}: the +Inf bucket (${last[1]}) differs from the count (${count})`)
  }
}

/** The value of one series, or undefined when the scrape has no such series. */
export function sampleValue(
  families: Map<string, Family>,
  sampleName: string,
  labels: Record<string, string> = {},
): number | undefined {
  for (const family of families.values()) {
    for (const sample of family.samples) {
      if (sample.name !== sampleName) continue
      const keys = Object.keys(sample.labels)
      if (keys.length !== Object.keys(labels).length) continue
      if (keys.every((key) => sample.labels[key] === labels[key])) return sample.value
    }
  }
  return undefined
}

/** Every series of a sample name, keyed by its labels joined as `a=1,b=2` in label order. */
export function seriesOf(families: Map<string, Family>, sampleName: string): Map<string, number> {
  const result = new Map<string, number>()
  for (const family of families.values()) {
    for (const sample of family.samples) {
      if (sample.name !== sampleName) continue
      const key = Object.entries(sample.labels)
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([k, v]) => `${k}=${v}`)
        .join(',')
      result.set(key, sample.value)
    }
  }
  return result
}
