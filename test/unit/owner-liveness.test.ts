import { describe, it, expect } from 'vitest'
import { ownerStep } from '../../node/registry/owner-liveness.js'
import type { MemberView } from '../../node/registry/owner-liveness.js'

const m = (state: MemberView['state'], incarnation = 1): MemberView => ({ state, incarnation })

describe('ownerStep: a member change folded into its records', () => {
  it.each([
    ['DEAD shows its records CRITICAL', m('DEAD'), m('ALIVE'), 'alive', { set: 'dead' }],
    ['a reaped owner stays gone on a later DEAD of a higher incarnation (review)', m('DEAD', 2), m('DEAD', 1), 'gone', {}],
    ['LEFT drops its records', m('LEFT'), m('ALIVE'), 'alive', { set: 'gone' }],
    ['new to us: alive, one pull at a time', m('ALIVE'), undefined, undefined, { set: 'alive', pull: 'if-idle' }],
    ['back from DEAD: CRITICAL until a pull from it settled (review)', m('ALIVE', 2), m('DEAD', 1), 'dead', { pull: 'then-alive' }],
    ['back from DEAD once reaped: nothing to show, alive and pull', m('ALIVE', 2), m('DEAD', 1), 'gone', { set: 'alive', pull: 'now' }],
    ['still shown DEAD, through SUSPECT: CRITICAL until a pull settled (review)', m('SUSPECT', 2), m('ALIVE', 2), 'dead', { pull: 'then-alive' }],
    ['still shown DEAD, a refutation on the way: the same (review)', m('ALIVE', 3), m('SUSPECT', 2), 'dead', { pull: 'then-alive' }],
    ['still shown DEAD, met anew: the same', m('ALIVE', 3), undefined, 'dead', { pull: 'then-alive' }],
    ['back from LEFT: alive and pull', m('ALIVE', 2), m('LEFT', 1), 'gone', { set: 'alive', pull: 'now' }],
    ['a higher incarnation (refuted or restarted): alive and pull', m('ALIVE', 3), m('SUSPECT', 2), 'alive', { set: 'alive', pull: 'now' }],
    ['SUSPECT keeps serving', m('SUSPECT'), m('ALIVE'), 'alive', { set: 'alive' }]
  ] as const)('%s', (_name, member, previous, current, step) => {
    expect(ownerStep(member, previous, current)).toEqual(step)
  })
})
