import { defineConfig } from "vite";
import react from "@vitejs/plugin-react";

// The build goes into the Python package, which `segmint serve` serves at / (docs/ui.md).
export default defineConfig({
  plugins: [react()],
  base: "/",
  build: {
    outDir: "../src/segmint/server/ui",
    emptyOutDir: true,
    assetsDir: "assets",
    sourcemap: false,
  },
  server: {
    // `npm run dev` beside `segmint serve` on 127.0.0.1:8000.
    proxy: { "/v1": "http://127.0.0.1:8000" },
  },
});
