import { unary } from '../../client/client.js'
import type { WireInstance, WireMember, WireStatus } from '../../client/client.js'
import type { LocalCluster } from '../../cluster/launcher.js'

/** Short-deadline calls against one node of a LocalCluster, for end-to-end tests. */
export function calls (cluster: LocalCluster, i: number): {
  members: () => Promise<WireMember[]>
  status: () => Promise<WireStatus>
  discover: (service: string, includeUnhealthy?: boolean) => Promise<WireInstance[]>
  register: (service: string, instanceId: string, ttlSeconds?: number) => Promise<WireInstance>
} {
  const c = cluster.clients(i)
  return {
    members: async () => (await unary<{ members: WireMember[] }>(c.cluster, 'Members', {}, { deadlineMs: 2000 })).members,
    status: async () => await unary<WireStatus>(c.cluster, 'Status', {}, { deadlineMs: 2000 }),
    discover: async (service, includeUnhealthy = false) =>
      (await unary<{ instances: WireInstance[] }>(c.registry, 'Discover', { service, include_unhealthy: includeUnhealthy }, { deadlineMs: 2000 })).instances,
    register: async (service, instanceId, ttlSeconds = 600) => (await unary<{ instance: WireInstance }>(c.registry, 'Register', {
      instance: { service, instance_id: instanceId, address: '127.0.0.1', port: 9000 }, ttl_seconds: ttlSeconds
    }, { deadlineMs: 2000 })).instance
  }
}

/** The state node `observer` has for node `subject`, or undefined. */
export async function stateOf (cluster: LocalCluster, observer: number, subject: number): Promise<WireMember | undefined> {
  const id = cluster.node(subject).nodeId
  return (await calls(cluster, observer).members()).find(m => m.node_id === id)
}
