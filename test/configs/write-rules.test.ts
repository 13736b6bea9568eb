import { describe, expect, it } from 'bun:test'
import { ConflictError, NotFoundError, PreconditionFailedError } from '../../src/configs/config-store.ts'
import type { Config } from '../../src/configs/model.ts'
import { type CurrentConfig, decideWrite } from '../../src/configs/write-rules.ts'

const config = (team: string): Config => ({ dcname: 'dc-1', metadata: { team } })
const stored: CurrentConfig = { revision: 7, body: JSON.stringify(config('a')) }
const identity = (current: Config) => current

describe('decideWrite', () => {
  it('when a create finds no config, then it adds one', () => {
    expect(decideWrite({ kind: 'create', config: config('a') }, undefined)).toEqual({
      type: 'ADDED',
      config: config('a'),
      created: true,
    })
  })

  it('when a create finds the dcname taken, then it is a conflict', () => {
    expect(() => decideWrite({ kind: 'create', config: config('a') }, stored)).toThrow(ConflictError)
  })

  it('when a replace finds the config, then it modifies it, and else adds it', () => {
    const replace = { kind: 'replace', config: config('b'), precondition: {} } as const
    expect(decideWrite(replace, stored)).toMatchObject({ type: 'MODIFIED', created: false })
    expect(decideWrite(replace, undefined)).toMatchObject({ type: 'ADDED', created: true })
  })

  it('when If-Match names another revision or If-None-Match finds one, then the precondition fails', () => {
    const stale = { kind: 'replace', config: config('b'), precondition: { ifMatch: 6 } } as const
    expect(() => decideWrite(stale, stored)).toThrow(PreconditionFailedError)
    const absent = { kind: 'replace', config: config('b'), precondition: { ifNoneMatch: '*' } } as const
    expect(() => decideWrite(absent, stored)).toThrow(PreconditionFailedError)
    expect(decideWrite({ ...stale, precondition: { ifMatch: 7 } }, stored).type).toBe('MODIFIED')
  })

  it('when an update finds the config, then it modifies it with what the change answers from the stored state', () => {
    const change = (current: Config) => ({ ...current, metadata: { ...current.metadata, owner: 'sre' } })
    const write = decideWrite({ kind: 'update', dcname: 'dc-1', change, precondition: {} }, stored)
    expect(write).toEqual({
      type: 'MODIFIED',
      config: { dcname: 'dc-1', metadata: { team: 'a', owner: 'sre' } },
      created: false,
    })
  })

  it('when an update or a delete finds no config, then it is not found, unless If-Match fails first', () => {
    const update = { kind: 'update', dcname: 'dc-1', change: identity, precondition: {} } as const
    expect(() => decideWrite(update, undefined)).toThrow(NotFoundError)
    expect(() => decideWrite({ kind: 'delete', dcname: 'dc-1', precondition: {} }, undefined)).toThrow(NotFoundError)
    const matching = { kind: 'delete', dcname: 'dc-1', precondition: { ifMatch: '*' } } as const
    expect(() => decideWrite(matching, undefined)).toThrow(PreconditionFailedError)
  })

  it('when a delete finds the config, then it deletes it keeping its last state', () => {
    expect(decideWrite({ kind: 'delete', dcname: 'dc-1', precondition: { ifMatch: 7 } }, stored)).toEqual({
      type: 'DELETED',
      dcname: 'dc-1',
      last: stored,
    })
  })

  it('when a rollback targets a state, then it writes it, creating the config when it is gone', () => {
    const rollback = {
      kind: 'rollback',
      dcname: 'dc-1',
      revision: 3,
      past: { config: config('old'), revision: 3 },
    } as const
    expect(decideWrite(rollback, stored)).toEqual({ type: 'MODIFIED', config: config('old'), created: false })
    expect(decideWrite(rollback, undefined)).toEqual({ type: 'ADDED', config: config('old'), created: true })
  })

  it('when a rollback targets a revision where the config did not exist, then it is not found at that revision', () => {
    const rollback = { kind: 'rollback', dcname: 'dc-1', revision: 3, past: undefined } as const
    expect(() => decideWrite(rollback, stored)).toThrow(new NotFoundError('dc-1', 3))
  })

  it('when a change refuses, then its error is the answer', () => {
    const refuse = () => {
      throw new Error('refused')
    }
    expect(() => decideWrite({ kind: 'update', dcname: 'dc-1', change: refuse, precondition: {} }, stored)).toThrow(
      'refused',
    )
  })
})
