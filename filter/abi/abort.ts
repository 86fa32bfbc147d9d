// AssemblyScript calls `abort` on a failed assertion or a bounds check. There are no exceptions to
// catch, so this is a bug in the module: log it at critical level, then trap (the host reports the
// trap and fails the VM). Input handling never relies on this path: parsers return errors instead.
import * as abi from "@gcoredev/proxy-wasm-sdk-as/assembly/imports";

// @ts-ignore: decorator
@global
export function meltemiAbort(message: string | null, file: string | null, line: u32, column: u32): void {
  let text = "meltemi: abort: " + (message !== null ? message : "");
  if (file !== null) text += " at " + file + ":" + line.toString() + ":" + column.toString();
  const utf8 = String.UTF8.encode(text);
  abi.proxy_log(5, changetype<usize>(utf8), utf8.byteLength);
  unreachable();
}
