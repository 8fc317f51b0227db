// Tests run in jsdom; Helsenorge's packages ship untranspiled styles, so Vite processes them (inline).
export default {
  esbuild: { jsx: "automatic" },
  test: {
    environment: "jsdom",
    testTimeout: 60000, // the big forms have over a hundred questions to find
    css: false,
    setupFiles: ["./tests/setup.js"],
    server: { deps: { inline: [/@helsenorge/] } },
  },
};
