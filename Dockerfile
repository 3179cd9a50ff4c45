# Grapevine node image: `docker compose up` runs three of them (docker-compose.yml).
# Build stage: dev dependencies (typescript) are needed only to compile.
FROM node:22-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci
# only the sources of the CLI; tests and bench scripts are not shipped
COPY tsconfig.json ./
COPY proto ./proto
COPY node ./node
COPY cluster ./cluster
COPY client ./client
RUN npm run build

# Runtime stage: production dependencies, the compiled JS and the .proto files
# (loaded at run time; protos.ts finds them by walking up from dist/node/api).
FROM node:22-slim
WORKDIR /app
ENV NODE_ENV=production
COPY package.json package-lock.json ./
RUN npm ci --omit=dev && npm cache clean --force
COPY --from=build /app/dist ./dist
COPY proto ./proto
# the node's key, epoch and owned records live here; compose mounts a volume per node
VOLUME ["/data"]
# 7000 gRPC API, 7001 libp2p gossip
EXPOSE 7000 7001
ENTRYPOINT ["node","--max-semi-space-size=4","--v8-pool-size=1","dist/node/cli/main.js","node"]
