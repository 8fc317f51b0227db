// The pages' build (`make portal`): the patient portal (index.html, served at /portal) and the clinicians' pages
// (clinic.html, served at /clinic), one build into dist/ whose assets both load from /portal/assets/.
import { fileURLToPath } from "node:url";

const page = (name) => fileURLToPath(new URL(name, import.meta.url));

export default {
  base: "/portal/",
  esbuild: { jsx: "automatic" },
  css: { preprocessorOptions: { scss: { quietDeps: true, silenceDeprecations: ["import", "legacy-js-api"] } } },
  build: {
    outDir: "dist",
    emptyOutDir: true,
    target: "es2022",
    sourcemap: false,
    chunkSizeWarningLimit: 2500, // the renderer (refero and Helsenorge's design system) is one lazily loaded chunk
    rollupOptions: { input: { portal: page("index.html"), clinic: page("clinic.html") } },
  },
};
