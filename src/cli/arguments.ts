/** configctl's argument parsers: each refuses a bad value as a usage error, before any request. */
import { InvalidArgumentError } from 'commander'
import { MAX_FILTERS, parseFilterKey } from '../configs/filter-key.ts'
import { DCNAME_PREFIX_RULE, DCNAME_RULE, isDcname, isDcnamePrefix } from '../configs/model.ts'

export function revisionArgument(value: string): number {
  if (!/^\d{1,15}$/.test(value) || Number(value) < 1) throw new InvalidArgumentError('expected a revision (1, 2, ...)')
  return Number(value)
}

/** As the API's `since`: 0 replays every change the service keeps. */
export function sinceArgument(value: string): number {
  if (!/^\d{1,15}$/.test(value)) throw new InvalidArgumentError('expected a revision (0 replays all the kept history)')
  return Number(value)
}

export function dcnameArgument(value: string): string {
  if (!isDcname(value)) throw new InvalidArgumentError(`expected a dcname: ${DCNAME_RULE}`)
  return value
}

export function prefixArgument(value: string): string {
  if (!isDcnamePrefix(value)) throw new InvalidArgumentError(`expected the start of a dcname: ${DCNAME_PREFIX_RULE}`)
  return value
}

/** Checked as the service checks filters, so a bad one is a usage error found before any request. */
export function filterArgument(value: string, previous: string[] = []): string[] {
  const at = value.indexOf('=')
  if (at < 1) throw new InvalidArgumentError('expected key=value, e.g. metadata.team=payments')
  const key = value.slice(0, at)
  const parsed = parseFilterKey(key)
  if ('problem' in parsed) {
    throw new InvalidArgumentError(
      parsed.problem === 'unknown'
        ? `${JSON.stringify(key)} is not a filter: use dcname=<name> or metadata.<path>=<value>`
        : `${JSON.stringify(key)} is not a path of letters, digits, "-" and "_" segments`,
    )
  }
  if (previous.some((earlier) => earlier.startsWith(`${key}=`))) {
    throw new InvalidArgumentError(`${JSON.stringify(key)} is filtered on twice`)
  }
  if (previous.length >= MAX_FILTERS) throw new InvalidArgumentError(`at most ${MAX_FILTERS} filters are allowed`)
  return [...previous, value]
}

export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value]
}
