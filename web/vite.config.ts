// The web console's build: Preact through esbuild's automatic JSX (no Babel), output in web/dist,
// served by the service itself (src/platform/console.ts). `npm run dev:web` proxies the API.
import { defineConfig } from 'vite';

export default defineConfig({
  root: __dirname,
  base: '/',
  esbuild: { jsx: 'automatic', jsxImportSource: 'preact' },
  build: { outDir: 'dist', emptyOutDir: true, target: 'es2020', modulePreload: { polyfill: false } },
  server: { proxy: { '/api': 'http://127.0.0.1:3000' } },
});
