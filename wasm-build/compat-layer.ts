import { gzipSync } from "fflate";
import tar from "tar-stream";

export interface LayerFile {
  name: string;
  bytes: Uint8Array;
}

/**
 * The compat image's one layer: a tar.gz of `files`, byte-for-byte the same for the same input (the
 * plain tar is returned too: its digest is the layer's diff_id in the image config).
 * tar: entries sorted by name, mode 0644, uid/gid 0, empty user/group names, mtime 0 (the Unix epoch).
 * gzip: fflate (pure JS, pinned in package-lock.json) so the deflate stream does not depend on the zlib
 * that this Node.js build bundles; header mtime 0, no file name, OS byte fixed by fflate to 3 (Unix).
 */
export async function compatLayer(files: LayerFile[]): Promise<{ tar: Uint8Array; gzip: Uint8Array }> {
  const sorted = [...files].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const pack = tar.pack();
  for (const f of sorted) {
    pack.entry({
      name: f.name,
      type: "file",
      size: f.bytes.length,
      mode: 0o644,
      uid: 0,
      gid: 0,
      uname: "",
      gname: "",
      mtime: new Date(0),
    }, Buffer.from(f.bytes.buffer, f.bytes.byteOffset, f.bytes.byteLength));
  }
  pack.finalize();
  const chunks: Buffer[] = [];
  for await (const chunk of pack) chunks.push(chunk);
  const tarBytes = Buffer.concat(chunks);
  return { tar: tarBytes, gzip: gzipSync(tarBytes, { level: 9, mtime: 0 }) };
}
