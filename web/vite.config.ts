// Vite builds the console into the Python package, where the API process serves it at "/".
import react from "@vitejs/plugin-react";
import { defineConfig } from "vitest/config";

// Relative to web/.
const outDir = "../src/sprintconnect/console/static";
const API = "http://127.0.0.1:8000";

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
    // `npm run dev` beside `make run`: the API, sign-in and docs stay on the Python server,
    // which checks that writes come from its own origin (CSRF), so the proxy says they do.
    host: "127.0.0.1",
    port: 5173,
    proxy: Object.fromEntries(
      ["/api", "/auth", "/openapi.json"].map((path) => [
        path,
        { target: API, headers: { Origin: API } },
      ]),
    ),
  },
  test: {
    environment: "jsdom",
    globals: true,
    setupFiles: ["./tests/setup.ts"],
    css: false,
  },
});
