import { describe, expect, it } from 'vitest'
import { makeRecord } from '../../node/registry/record.js'
import type { InstanceRecord } from '../../node/registry/types.js'

const base: InstanceRecord = {
  service: 'pay', instanceId: 'i1', address: '10.0.0.1', port: 80, protocol: 'grpc', version: '1', tags: ['a'], metadata: { k: 'v' },
  weight: 100, zone: 'z', status: 'PASSING', ownerNode: 'n1', registeredAtMs: 1, updatedAtMs: 2, ttlMs: 30_000, load: 3
}

describe('makeRecord', () => {
  it('copies every field in one order, the optional ones only when set', () => {
    const r = makeRecord(base)
    expect(r).not.toBe(base)
    expect(r).toEqual(base)
    const required = ['service', 'instanceId', 'address', 'port', 'protocol', 'version', 'tags', 'metadata', 'weight', 'zone',
      'status', 'ownerNode', 'registeredAtMs', 'updatedAtMs', 'ttlMs']
    expect(Object.keys(r)).toEqual([...required, 'load'])
    expect(Object.keys(makeRecord(base, { ownerDead: true }))).toEqual([...required, 'load', 'ownerDead'])
    const { load: _load, ...noLoad } = base
    expect(Object.keys(makeRecord(noLoad))).toEqual(required)
  })

  it('overrides the fields it is given and keeps the rest', () => {
    const r = makeRecord(base, { status: 'CRITICAL', updatedAtMs: 9, ownerDead: true })
    expect(r).toEqual({ ...base, status: 'CRITICAL', updatedAtMs: 9, ownerDead: true })
    expect(base.status).toBe('PASSING')
  })

  it('serializes as before: absent optional fields stay out of JSON', () => {
    const { load: _load, ...noLoad } = base
    expect(JSON.parse(JSON.stringify(makeRecord(noLoad)))).toEqual(noLoad)
    expect(JSON.stringify(makeRecord(noLoad))).not.toContain('load')
  })
})
