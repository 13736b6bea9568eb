/**
 * The access policy on its own: every role x every action x inside / outside its prefixes, the
 * anonymous caller under each rule, and what lists show.
 */
import { describe, expect, it } from 'bun:test'
import {
  type Action,
  actorOf,
  anonymousPrincipal,
  authorize,
  ForbiddenError,
  type Principal,
  READ_ACTIONS,
  ROLES,
  type Role,
  UnauthenticatedError,
  visible,
  WRITE_ACTIONS,
} from '../../src/configs/access.ts'

const ACTIONS: Action[] = [...READ_ACTIONS, ...WRITE_ACTIONS]
const limited = (role: Role): Principal => ({ actor: `t-${role}`, role, prefixes: ['payments-', 'shared.'] })

type Outcome = 'allowed' | 401 | 403

function outcome(principal: Principal | undefined, action: Action, dcname?: string): Outcome {
  try {
    authorize(principal, action, dcname)
    return 'allowed'
  } catch (error) {
    if (error instanceof UnauthenticatedError) return 401
    if (error instanceof ForbiddenError) return 403
    throw error
  }
}

/** What the README promises: readers read, writers and admins also write; prefixes limit all. */
function expected(role: Role, action: Action, inside: boolean): Outcome {
  const writes = (WRITE_ACTIONS as readonly string[]).includes(action)
  if (writes && role === 'reader') return 403
  return inside ? 'allowed' : 403
}

describe('authorize', () => {
  for (const role of ROLES) {
    for (const action of ACTIONS) {
      it(`when a ${role} limited to prefixes does ${action}, then inside them it is ${expected(role, action, true)} and outside ${expected(role, action, false)}`, () => {
        expect(outcome(limited(role), action, 'payments-eu')).toBe(expected(role, action, true))
        expect(outcome(limited(role), action, 'shared.dns')).toBe(expected(role, action, true))
        expect(outcome(limited(role), action, 'billing-eu')).toBe(expected(role, action, false))
        // A prefix is matched from the start only.
        expect(outcome(limited(role), action, 'x-payments-eu')).toBe(expected(role, action, false))
      })
    }
  }

  it('when a principal has no prefixes, then every dcname is inside, and reader writes stay refused', () => {
    for (const role of ROLES) {
      for (const action of ACTIONS) {
        expect(outcome({ actor: 'all', role }, action, 'anything')).toBe(expected(role, action, true))
      }
    }
  })

  it('when no dcname is named (a list, the app-level gate), then only the role decides', () => {
    for (const role of ROLES) {
      expect(outcome(limited(role), 'list')).toBe('allowed')
      expect(outcome(limited(role), 'create')).toBe(role === 'reader' ? 403 : 'allowed')
    }
    expect(() => authorize(limited('reader'), 'write')).toThrow(ForbiddenError)
    expect(() => authorize(limited('reader'), 'read')).not.toThrow()
  })

  it('when a refusal is thrown, then its message names the actor and the reason but no secret', () => {
    expect(() => authorize(limited('reader'), 'delete', 'payments-eu')).toThrow(
      't-reader has the role reader, which may not delete',
    )
    expect(() => authorize(limited('writer'), 'get', 'billing')).toThrow(
      't-writer may not access "billing": outside its prefixes',
    )
  })
})

describe('anonymous callers', () => {
  it('when no credential is configured, then an anonymous caller may do anything, as actor anonymous', () => {
    const anonymous = anonymousPrincipal({ protected: false, anonymousRead: true })
    for (const action of ACTIONS) expect(outcome(anonymous, action, 'any')).toBe('allowed')
    expect(actorOf(anonymous)).toBe('anonymous')
  })

  it('when protected with anonymous reads, then it reads everything and a write is 401 (a token would help)', () => {
    const anonymous = anonymousPrincipal({ protected: true, anonymousRead: true })
    for (const action of READ_ACTIONS) expect(outcome(anonymous, action, 'payments-eu')).toBe('allowed')
    for (const action of WRITE_ACTIONS) expect(outcome(anonymous, action, 'payments-eu')).toBe(401)
    expect(() => authorize(anonymous, 'create')).toThrow(UnauthenticatedError)
  })

  it('when protected without anonymous reads, then every action is 401 with no token presented', () => {
    const anonymous = anonymousPrincipal({ protected: true, anonymousRead: false })
    expect(anonymous).toBeUndefined()
    for (const action of ACTIONS) expect(outcome(anonymous, action, 'any')).toBe(401)
    try {
      authorize(anonymous, 'get')
    } catch (error) {
      expect((error as UnauthenticatedError).presented).toBe(false)
    }
    expect(actorOf(anonymous)).toBe('anonymous')
  })
})

describe('visible', () => {
  it('when a list is filtered, then a limited principal sees only its prefixes and an unlimited one all', () => {
    const names = ['billing-1', 'payments-1', 'payments-2', 'shared.x', 'sharedx']
    expect(names.filter(visible(limited('reader')))).toEqual(['payments-1', 'payments-2', 'shared.x'])
    expect(names.filter(visible({ actor: 'admin', role: 'admin' }))).toEqual(names)
  })

  it('when the actor is asked for, then it is the principal name', () => {
    expect(actorOf(limited('writer'))).toBe('t-writer')
  })
})

describe('the report action', () => {
  it('when any role reports inside its prefixes, then it is allowed, and outside them refused with 403', () => {
    for (const role of ROLES) {
      expect(outcome(limited(role), 'report', 'payments-eu')).toBe('allowed')
      expect(outcome(limited(role), 'report', 'search-eu')).toBe(403)
    }
  })

  it('when a caller without a token reports, then a protected service refuses it with 401 and an open one allows it', () => {
    const protectedRules = { protected: true, anonymousRead: true }
    expect(outcome(anonymousPrincipal(protectedRules), 'report', 'payments-eu')).toBe(401)
    expect(outcome(anonymousPrincipal({ protected: false, anonymousRead: true }), 'report', 'payments-eu')).toBe(
      'allowed',
    )
  })
})
