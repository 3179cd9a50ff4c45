import { gossipsub } from '@chainsafe/libp2p-gossipsub'
import type { GossipSub, GossipSubComponents } from '@chainsafe/libp2p-gossipsub'
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { identify } from '@libp2p/identify'
import type { Libp2p, PrivateKey } from '@libp2p/interface'
import { ping } from '@libp2p/ping'
import type { Ping } from '@libp2p/ping'
import type { Identify } from '@libp2p/identify'
import { tcp } from '@libp2p/tcp'
import { multiaddr } from '@multiformats/multiaddr'
import type { Multiaddr } from '@multiformats/multiaddr'
import { createLibp2p } from 'libp2p'
import { isIP } from 'node:net'
import { cacheEd25519KeyObjects } from './ed25519-cache.js'
import { fastMsgId, msgIdString } from './message-ids.js'
import { coalescingMuxer } from './write-coalescing.js'
import { halveWindowUpdates } from './yamux-window.js'

/** The libp2p services a Grapevine node runs. */
export type HostServices = {
  identify: Identify
  ping: Ping
  pubsub: GossipSub
}

/** A started libp2p node with Grapevine's services. */
export type Host = Libp2p<HostServices>

/** Options of the host. */
export interface HostInit {
  readonly privateKey: PrivateKey
  /** the gossip listener, host:port */
  readonly listenHost: string
  readonly listenPort: number
  /** the expected cluster size; gossipsub's mesh bounds follow it */
  readonly expectedPeers?: number
}

/**
 * Creates the libp2p host: TCP + noise + yamux, identify, ping and gossipsub.
 * Gossipsub is tuned for small, fully connected clusters (see DESIGN.md's
 * pitfalls): a message id from (from, seqno) so duplicates are dropped before
 * their signature is checked, flood publishing of our own messages, and a
 * mesh lower bound that covers a 5-node cluster.
 */
export async function createHost (init: HostInit): Promise<Host> {
  halveWindowUpdates()
  cacheEd25519KeyObjects(init.privateKey)
  const d = Math.max(6, (init.expectedPeers ?? 5) - 1)
  return await createLibp2p<HostServices>({
    privateKey: init.privateKey,
    addresses: { listen: [toMultiaddr(init.listenHost, init.listenPort).toString()] },
    transports: [tcp()],
    connectionEncrypters: [noise()],
    streamMuxers: [coalescingMuxer(yamux())],
    // membership redials and probes; the monitor only needs to catch dead sockets, generously
    connectionMonitor: { pingInterval: 10_000, abortConnectionOnPingFailure: false },
    connectionManager: { maxConnections: 1000, dialTimeout: 5000 },
    services: {
      identify: identify(),
      ping: ping({ timeout: 10_000, maxInboundStreams: 64, maxOutboundStreams: 64 }),
      // the factory is typed as the PubSub interface; the replicator needs the class's reportMessageValidationResult
      pubsub: gossipsub({
        allowPublishToZeroTopicPeers: true,
        ignoreDuplicatePublishError: true,
        emitSelf: false,
        floodPublish: true,
        // the replicator decides per batch whether it is relayed (replicator.ts receive)
        asyncValidation: true,
        // IDONTWANT saves a relay's copy; with no relays it was 3 writes per batch per node for nothing
        idontwantMinDataSize: Number.MAX_SAFE_INTEGER,
        // a published batch is encoded once for every peer, not once per peer (no control messages
        // ride along; gossipsub sends those on its heartbeat)
        batchPublish: true,
        D: d,
        Dlo: d,
        Dhi: d * 2,
        heartbeatInterval: 700,
        maxInboundDataLength: 8 * 1024 * 1024,
        fastMsgIdFn: fastMsgId,
        msgIdToStrFn: msgIdString
      }) as (components: GossipSubComponents) => GossipSub
    }
  })
}

/** A multiaddr for host:port (IPv4, IPv6 or a DNS name), optionally with the peer id. */
export function toMultiaddr (host: string, port: number, peerId?: string): Multiaddr {
  const v = isIP(host)
  const proto = v === 4 ? 'ip4' : v === 6 ? 'ip6' : 'dns4'
  return multiaddr(`/${proto}/${host}/tcp/${port}${peerId != null ? `/p2p/${peerId}` : ''}`)
}
