import { fileURLToPath } from 'node:url';
import react from '@vitejs/plugin-react';
import type { Plugin } from 'vite';
import { defineConfig } from 'vitest/config';

/**
 * codemirror-json-schema renders schema descriptions with markdown-it plus a syntax highlighter
 * compiled to WebAssembly (shiki): megabytes, and refused by the UI's CSP. Its renderer module
 * is swapped for ours (markdown-it alone).
 */
function plainSchemaMarkdown(): Plugin {
  const ours = fileURLToPath(new URL('./src/common/markdown.ts', import.meta.url));
  return {
    name: 'pilotage-plain-schema-markdown',
    enforce: 'pre',
    resolveId(source, importer) {
      if (importer?.includes('codemirror-json-schema') && /utils\/markdown(\.js)?$/.test(source)) return ours;
      return null;
    },
  };
}

// `npm run dev -w @pilotage/web` serves the UI with hot reload and sends API calls to a running
// `pilotage serve` (PILOTAGE_SERVER, default http://127.0.0.1:8080).
export default defineConfig({
  plugins: [plainSchemaMarkdown(), react()],
  base: '/',
  build: { outDir: 'dist', emptyOutDir: true, sourcemap: false, chunkSizeWarningLimit: 2000 },
  server: { proxy: { '/v1': process.env.PILOTAGE_SERVER ?? 'http://127.0.0.1:8080' } },
  test: {
    environment: 'happy-dom',
    include: ['src/**/*.test.{ts,tsx}'],
  },
});
