import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';

// Relative asset URLs, so dist/ can be served from any path; no source maps
// (the build is a test fixture).
export default defineConfig({
  plugins: [react()],
  base: './',
  build: { outDir: 'dist', sourcemap: false, chunkSizeWarningLimit: 8000 },
  logLevel: 'warn',
});
