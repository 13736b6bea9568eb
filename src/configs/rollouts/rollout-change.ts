/**
 * A rollout's change applied to one config, and checked as a PATCH or PUT of it would be: a
 * change that would make any targeted config invalid is refused when the rollout is created,
 * and one that became invalid since (the config was edited) pauses the rollout at that config.
 */
import { getSchemaValidator } from 'elysia'
import { applyMergePatch } from '../merge-patch.ts'
import { type Config, ConfigSchema, isObject, normalizeConfig, structuralErrors } from '../model.ts'
import { type RolloutChange, RolloutInvalidError } from './rollout-model.ts'

const validator = getSchemaValidator(ConfigSchema, { normalize: false, additionalProperties: false })

export function changedConfig(current: Config, change: RolloutChange): Config {
  const metadata = 'merge' in change ? applyMergePatch(current.metadata, change.merge) : change.metadata
  const next = { dcname: current.dcname, metadata }
  const faults = isObject(metadata) ? structuralErrors(next) : [{ pointer: '/metadata', message: 'not an object' }]
  if (faults.length === 0 && !validator?.Check(next)) {
    for (const e of validator?.Errors(next) ?? []) faults.push({ pointer: e.path, message: e.message })
  }
  if (faults.length > 0) {
    throw new RolloutInvalidError(`the change would make config ${JSON.stringify(current.dcname)} invalid`, faults)
  }
  return normalizeConfig(next as Config)
}
