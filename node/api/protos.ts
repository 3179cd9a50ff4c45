import { statSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import path from 'node:path'
import * as grpc from '@grpc/grpc-js'
import * as protoLoader from '@grpc/proto-loader'

/** Folder holding `grapevine/v1/*.proto` and `grpc/health/v1/health.proto`. */
export const PROTO_ROOT = findProtoRoot()

/** The proto files the node serves, relative to PROTO_ROOT. */
export const PROTO_FILES = [
  'grapevine/v1/registry.proto',
  'grapevine/v1/cluster.proto',
  'grpc/health/v1/health.proto'
]

/**
 * Loader options shared by server and clients: snake_case field names as in
 * the .proto (they are the contract), int64 as JS numbers, enums as strings.
 */
export const LOADER_OPTIONS: protoLoader.Options = {
  keepCase: true,
  longs: Number,
  enums: String,
  defaults: true,
  arrays: true,
  objects: true,
  oneofs: true,
  includeDirs: [PROTO_ROOT]
}

let cached: { definition: protoLoader.PackageDefinition, grpcObject: grpc.GrpcObject } | undefined

/** Loads (once) the package definition and the grpc object tree. */
export function loadProtos (): { definition: protoLoader.PackageDefinition, grpcObject: grpc.GrpcObject } {
  if (cached == null) {
    const definition = protoLoader.loadSync(PROTO_FILES, LOADER_OPTIONS)
    cached = { definition, grpcObject: grpc.loadPackageDefinition(definition) }
  }
  return cached
}

/** The service client constructors, for clients and tests. */
export function serviceClients (): {
  Registry: grpc.ServiceClientConstructor
  Cluster: grpc.ServiceClientConstructor
  Health: grpc.ServiceClientConstructor
} {
  const g = loadProtos().grpcObject as any
  return { Registry: g.grapevine.v1.Registry, Cluster: g.grapevine.v1.Cluster, Health: g.grpc.health.v1.Health }
}

// Works both from source (node/api) and compiled (dist/node/api): walk up to the repo's proto/.
function findProtoRoot (): string {
  let dir = path.dirname(fileURLToPath(import.meta.url))
  for (let i = 0; i < 5; i++) {
    const candidate = path.join(dir, 'proto')
    if (existsDir(path.join(candidate, 'grapevine'))) return candidate
    dir = path.dirname(dir)
  }
  throw new Error('proto/ folder not found above ' + fileURLToPath(import.meta.url))
}

function existsDir (p: string): boolean {
  try {
    return statSync(p).isDirectory()
  } catch {
    return false
  }
}
