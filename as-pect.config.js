// as-pect runs the filter's unit tests (filter/**/__tests__/*.spec.ts) in Node with no proxy-wasm host;
// code under test must not call host functions (test the ABI glue through test/host instead).
import fs from "node:fs";
export default {
  entries: ["filter/**/__tests__/**/*.spec.ts"],
  include: ["filter/__tests__/*.include.ts"],
  disclude: [/node_modules/],
  async instantiate(memory, createImports, instantiate, binary) {
    return instantiate(binary, createImports({ env: { memory } }));
  },
  outputBinary: false,
};
