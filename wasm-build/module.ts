import fs from "node:fs";
import { WasmBuildError } from "./errors.js";
import { sha256Hex } from "./digest.js";

/** A compiled module that passed WebAssembly.validate, with what the image metadata needs from it. */
export interface WasmModule {
  bytes: Uint8Array;
  sha256: string;
  /** proxy-wasm ABI versions the module declares: export `proxy_abi_version_0_2_1` gives "0.2.1". */
  abiVersions: string[];
}

const ABI_EXPORT_PREFIX = "proxy_abi_version_";

export function readModule(file: string): WasmModule {
  let bytes: Uint8Array;
  try {
    bytes = fs.readFileSync(file);
  } catch (e) {
    throw new WasmBuildError(`cannot read module ${file}: ${(e as Error).message}`);
  }
  return checkModule(bytes, file);
}

/** Rejects anything that is not a valid WebAssembly binary before it can be packed or pushed. */
export function checkModule(input: Uint8Array, name = "module"): WasmModule {
  const bytes = new Uint8Array(input); // an own copy: the caller's buffer may be reused or shared
  if (!WebAssembly.validate(bytes)) {
    const magic = bytes.length >= 4 && bytes[0] === 0 && bytes[1] === 0x61 && bytes[2] === 0x73 && bytes[3] === 0x6d;
    const why = magic ? "it has the \\0asm header but does not validate" : "it does not start with the \\0asm header";
    throw new WasmBuildError(`${name} is not a valid WebAssembly module (${why}); nothing was packed or pushed`);
  }
  const exports = WebAssembly.Module.exports(new WebAssembly.Module(bytes));
  const abiVersions = exports
    .map((e) => e.name)
    .filter((n) => n.startsWith(ABI_EXPORT_PREFIX))
    .map((n) => n.slice(ABI_EXPORT_PREFIX.length).replaceAll("_", "."))
    .sort();
  return { bytes, sha256: sha256Hex(bytes), abiVersions };
}
