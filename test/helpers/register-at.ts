import { connect, unary } from '../../client/client.js'

/** Registers one instance with the node serving gRPC at `addr`, on a connection of its own that is closed after. */
export async function registerAt (addr: string, instance: { service: string, instance_id: string, address: string, port: number }, ttlSeconds: number): Promise<void> {
  const c = connect(addr)
  try {
    await unary(c.registry, 'Register', { instance, ttl_seconds: ttlSeconds })
  } finally {
    c.close()
  }
}
