// Builds the review UI (api/web) into api/web/dist, which fastify serves at /review/.
import { defineConfig } from 'vite';

export default defineConfig({
  root: 'api/web',
  base: '/review/',
  build: { outDir: 'dist', emptyOutDir: true, target: 'es2022', sourcemap: true },
  server: { proxy: { '/v1': 'http://127.0.0.1:8080' } },
});
