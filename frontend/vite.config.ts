// Build the React pages into dist/ with a manifest that Django's {% vite_entry %} reads.
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const root = fileURLToPath(new URL('.', import.meta.url));

export default defineConfig({
  root,
  // Django serves dist/ through staticfiles (STATICFILES_DIRS), under STATIC_URL.
  base: '/static/',
  publicDir: false,
  // No @vitejs/plugin-react: esbuild's automatic runtime is all the JSX we need.
  esbuild: { jsx: 'automatic' },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    manifest: true,
    rollupOptions: {
      // One entry per Django page; manifest keys are these paths relative to root.
      input: {
        board: fileURLToPath(new URL('src/board/main.tsx', import.meta.url)),
        connections: fileURLToPath(new URL('src/connections/main.tsx', import.meta.url)),
        editor: fileURLToPath(new URL('src/editor/main.tsx', import.meta.url)),
        inbox: fileURLToPath(new URL('src/inbox/main.tsx', import.meta.url)),
        run: fileURLToPath(new URL('src/run/main.tsx', import.meta.url)),
        runlist: fileURLToPath(new URL('src/runlist/main.tsx', import.meta.url)),
        workflows: fileURLToPath(new URL('src/workflows/main.tsx', import.meta.url)),
      },
      output: {
        // Name the shared chunks: React for every page, and our common modules.
        manualChunks(id) {
          if (/[\\/]node_modules[\\/](react|react-dom|scheduler)[\\/]/.test(id)) return 'react';
          if (/[\\/]src[\\/](api|hooks|ui)[\\/]/.test(id)) return 'common';
          return undefined;
        },
      },
    },
  },
  test: {
    include: ['src/**/*.test.ts'],
    environment: 'node',
  },
});
