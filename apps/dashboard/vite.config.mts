import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';
import openApiDocument from './src/api/generated/openapi.json' with { type: 'json' };

/**
 * `npx vite` (in apps/dashboard) serves the dashboard with hot reload and forwards every API path of the
 * OpenAPI document to the control plane at EMOFLEET_SERVER (default http://127.0.0.1:3000).
 */
const controlPlane = process.env.EMOFLEET_SERVER ?? 'http://127.0.0.1:3000';
const apiPrefixes = [
  ...new Set(Object.keys(openApiDocument.paths).map((path) => `/${path.split('/')[1] ?? ''}`)),
];

export default defineConfig({
  plugins: [react()],
  base: '/',
  build: { outDir: 'dist', emptyOutDir: true, sourcemap: true, target: 'es2022' },
  server: {
    proxy: Object.fromEntries(
      apiPrefixes.map((prefix) => [prefix, { target: controlPlane, changeOrigin: true }]),
    ),
  },
});
