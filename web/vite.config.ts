// Vite builds the console into the Python package, where the API process serves it at "/".
import react from "@vitejs/plugin-react";
import { defineConfig } from "vitest/config";

// Relative to web/.
const outDir = "../src/sprintconnect/console/static";

export default defineConfig({
  plugins: [react()],
  base: "/",
  build: {
    outDir,
    emptyOutDir: true,
    assetsDir: "assets",
    sourcemap: false,
    chunkSizeWarningLimit: 600,
  },
  server: {
    // `npm run dev` beside `make run`: the API, sign-in and docs stay on the Python server.
    proxy: {
      "/api": "http://127.0.0.1:8000",
      "/auth": "http://127.0.0.1:8000",
      "/openapi.json": "http://127.0.0.1:8000",
    },
  },
  test: {
    environment: "jsdom",
    globals: true,
    setupFiles: ["./tests/setup.ts"],
    css: false,
  },
});
