import net from 'node:net'

/**
 * `preferred` when its `count` ports are free on 127.0.0.1, else a random
 * free range in 20000-32000: below Linux's ephemeral ports (32768 up), which
 * another process's outgoing connection could take while a killed node is down.
 */
export async function freeBasePort (preferred: number, count: number): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const base = attempt === 0 ? preferred : 20_000 + 2 * Math.floor(Math.random() * (6_000 - count))
    let free = true
    for (let p = base; p < base + count && free; p++) free = await portFree(p)
    if (free) return base
  }
  return preferred
}

/** Whether `host:port` can be listened on now. */
export async function portFree (port: number, host = '127.0.0.1'): Promise<boolean> {
  return await new Promise(resolve => {
    const server = net.createServer()
    server.once('error', () => { resolve(false) })
    server.listen(port, host, () => { server.close(() => { resolve(true) }) })
  })
}
