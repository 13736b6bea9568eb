import { describe, expect, it } from 'bun:test'
import * as conventions from '@opentelemetry/semantic-conventions'
import * as ours from '../../src/observability/semantic-attributes.ts'

describe('semantic attribute names', () => {
  it('when written out by hand, then each equals the one OpenTelemetry publishes under the same name', () => {
    for (const [name, value] of Object.entries(ours)) {
      expect({ name, value }).toEqual({ name, value: (conventions as Record<string, unknown>)[name] as string })
    }
  })
})
