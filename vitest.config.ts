import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    setupFiles: ['./node/polyfill.ts'],
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // e2e suites spawn 5 node processes each; on 2 cores run files one at a time
    fileParallelism: false,
    pool: 'forks'
  }
})
