import * as grpc from '@grpc/grpc-js'
import { describe, expect, it } from 'vitest'
import { connect, unary } from '../../client/client.js'
import { waitFor } from '../../cluster/wait.js'
import { registryService, watchOpener } from '../../node/api/registry-service.js'
import type { RegistryServiceComponents } from '../../node/api/registry-service.js'
import { bind, createGrpcServer, shutdown } from '../../node/api/server.js'
import { silentLogger } from '../unit/registry-fixtures.js'

// A node's gRPC stop: running calls get the grace period, then are cut.
// grpc-js's forceShutdown finds the sessions to cut through channelz: with
// channelz off it cut nothing, and a call (or a Watch) outlived the stop.

describe('gRPC server stop', () => {
  it('cuts a call still running when the grace period ends', async () => {
    let reached = false
    let release: () => void = () => {}
    const disk = new Promise<void>(resolve => { release = resolve })
    // only what Deregister touches: an owner that had the instance, and a disk that does not answer
    const c = {
      owner: { deregister: () => { reached = true; return true } },
      logger: silentLogger,
      durable: async () => { await disk }
    } as unknown as RegistryServiceComponents
    const server = createGrpcServer({ registry: registryService(c), watch: watchOpener(c), cluster: {}, health: {} })
    const port = await bind(server, '127.0.0.1', 0)
    const client = connect(`127.0.0.1:${port}`)
    try {
      const outcome = unary(client.registry, 'Deregister', { service: 'web', instance_id: 'a' }, { deadlineMs: 10_000 })
        .then(() => 'answered', (err: grpc.ServiceError) => grpc.status[err.code])
      await waitFor(() => reached, { message: 'Deregister in its handler' })
      await shutdown(server, 100)
      expect(await outcome).toBe('CANCELLED')
    } finally {
      release()
      client.close()
    }
  })
})
