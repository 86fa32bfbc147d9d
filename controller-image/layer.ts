// One image layer holding a whole root filesystem, byte for byte the same for the same files: tar
// entries sorted by path, directories made explicit, uid/gid 0 and empty owner names, mtime 0; gzip by
// fflate (pure JS, pinned), header mtime 0, so the bytes do not depend on this Node's zlib.
// The plain tar is returned too: its digest is the layer's diff_id in the image config.
import { gzipSync } from "fflate";
import tar from "tar-stream";

export interface RootfsEntry {
  /** Path inside the image, without a leading slash: "usr/local/bin/node". */
  path: string;
  mode: number;
  /** Absent for a directory. */
  bytes?: Uint8Array;
}

/** Every parent directory of the entries (mode 0755) that is not listed itself. */
function withParents(entries: RootfsEntry[]): RootfsEntry[] {
  const byPath = new Map(entries.map((e) => [e.path, e]));
  for (const e of entries) {
    const parts = e.path.split("/");
    for (let i = 1; i < parts.length; i++) {
      const dir = parts.slice(0, i).join("/");
      if (!byPath.has(dir)) byPath.set(dir, { path: dir, mode: 0o755 });
    }
  }
  return [...byPath.values()].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

export async function rootfsLayer(entries: RootfsEntry[]): Promise<{ tar: Uint8Array; gzip: Uint8Array }> {
  const pack = tar.pack();
  for (const e of withParents(entries)) {
    const header = { mode: e.mode, uid: 0, gid: 0, uname: "", gname: "", mtime: new Date(0) };
    if (e.bytes === undefined) pack.entry({ ...header, name: e.path + "/", type: "directory" });
    else pack.entry({ ...header, name: e.path, type: "file", size: e.bytes.length }, Buffer.from(e.bytes.buffer, e.bytes.byteOffset, e.bytes.byteLength));
  }
  pack.finalize();
  const chunks: Buffer[] = [];
  for await (const chunk of pack) chunks.push(chunk);
  const tarBytes = Buffer.concat(chunks);
  return { tar: tarBytes, gzip: gzipSync(tarBytes, { level: 6, mtime: 0 }) };
}
