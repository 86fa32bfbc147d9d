/**
 * An error meant for the person running wasm-build: the message says what went wrong and, where it
 * can, what to do. The CLI prints it without a stack trace and exits non-zero.
 */
export class WasmBuildError extends Error {
  constructor(message: string, readonly exitCode = 1) {
    super(message);
    this.name = "WasmBuildError";
  }
}
