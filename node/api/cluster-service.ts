import type { UntypedServiceImplementation } from '@grpc/grpc-js'
import type { Logger } from 'pino'
import type { HealthManager } from '../health/manager.js'
import type { Member } from '../membership/member-table.js'
import type { Registry } from '../registry/registry.js'
import { encodeVector } from '../registry/version-vector.js'
import { unary } from './registry-service.js'

/** What the Cluster service needs from the node. */
export interface ClusterServiceComponents {
  readonly nodeId: string
  readonly name: string
  /** the member table (membership is built after the API, so this reads it late) */
  readonly members: { all: () => Member[] }
  readonly registry: Registry
  readonly health: HealthManager
  readonly logger: Logger
}

/** Handlers of grapevine.v1.Cluster. */
export function clusterService (c: ClusterServiceComponents): UntypedServiceImplementation {
  return {
    Members: unary(() => ({
      members: c.members.all().map(m => ({
        node_id: m.id,
        name: m.name,
        grpc_address: m.grpcAddress,
        gossip_address: m.gossipAddress,
        state: m.state,
        incarnation: m.incarnation
      }))
    }), c.logger),
    Status: unary(() => ({
      node_id: c.nodeId,
      name: c.name,
      members_alive: c.members.all().filter(m => m.state === 'ALIVE').length,
      instances: c.registry.size,
      digest: c.registry.digest(),
      version_vector: encodeVector(c.registry.vector()),
      active_checks: c.health.scheduler.stats().checks,
      check_lateness_p99_ms: c.health.scheduler.latenessPercentile(99)
    }), c.logger)
  }
}
