// The bundle goes into the Python package, where `wayline server` serves it at / (not committed).
import { defineConfig } from "vite";
import react from "@vitejs/plugin-react";

export default defineConfig({
  plugins: [react()],
  base: "./",
  build: {
    outDir: "../src/wayline/server/ui_bundle",
    emptyOutDir: true,
    chunkSizeWarningLimit: 1000,
    sourcemap: false,
  },
  server: {
    proxy: {
      "/api": "http://127.0.0.1:5000",
      "/ajax-api": "http://127.0.0.1:5000",
      "/get-artifact": "http://127.0.0.1:5000",
    },
  },
});
