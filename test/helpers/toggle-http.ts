import http from 'node:http'
import type { AddressInfo } from 'node:net'

/** A local HTTP server whose answer a test switches: `status` is what GET /health returns. */
export interface ToggleServer {
  status: number
  readonly port: number
  close: () => Promise<void>
}

/** Starts a ToggleServer on 127.0.0.1, port 0. */
export async function toggleServer (status = 200): Promise<ToggleServer> {
  const state = { status }
  const server = http.createServer((_req, res) => { res.writeHead(state.status).end('ok') })
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  return {
    get status () { return state.status },
    set status (v: number) { state.status = v },
    port: (server.address() as AddressInfo).port,
    close: async () => { server.closeAllConnections(); await new Promise<void>(resolve => server.close(() => { resolve() })) }
  }
}
