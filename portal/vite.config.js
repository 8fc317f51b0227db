// The patient portal's build (`make portal`): served by the API process at /portal from dist/.
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
  },
};
