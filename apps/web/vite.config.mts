import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

// The browser UI. Built into dist/web at the repo root, which the API serves at / (see
// apps/api/src/web-ui.ts). JSX goes through Vite's built-in Oxc transform: @vitejs/plugin-react
// adds only fast refresh, and its optional Babel peers do not resolve next to Jest's Babel 7.
const here = dirname(fileURLToPath(import.meta.url));
export default defineConfig({
  root: here,
  base: '/',
  publicDir: resolve(here, 'public'),
  oxc: { jsx: { runtime: 'automatic' } },
  build: {
    outDir: resolve(here, '../../dist/web'),
    emptyOutDir: true,
    sourcemap: false,
    target: 'es2022',
    reportCompressedSize: false,
    rolldownOptions: {
      // react-router marks its modules "use client" (for server components); harmless in an SPA.
      onwarn(warning, warn) {
        if (warning.code === 'MODULE_LEVEL_DIRECTIVE') return;
        warn(warning);
      },
    },
  },
  server: {
    // `npx vite --config apps/web/vite.config.ts` during UI work, next to `npm start` on :3000.
    proxy: { '/api': 'http://localhost:3000', '/health': 'http://localhost:3000' },
  },
});
