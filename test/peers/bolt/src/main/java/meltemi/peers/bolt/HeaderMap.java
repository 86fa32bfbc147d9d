package meltemi.peers.bolt;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;

/** SOFA RPC's header map over Bolt: int32 length + UTF-8 bytes for each key and value. */
final class HeaderMap {
  private HeaderMap() {}

  static byte[] encode(Map<String, String> map) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    for (Map.Entry<String, String> e : map.entrySet()) {
      write(out, e.getKey());
      write(out, e.getValue());
    }
    return out.toByteArray();
  }

  private static void write(ByteArrayOutputStream out, String s) {
    byte[] b = s.getBytes(StandardCharsets.UTF_8);
    out.writeBytes(ByteBuffer.allocate(4).putInt(b.length).array());
    out.writeBytes(b);
  }

  static Map<String, String> decode(byte[] bytes) {
    Map<String, String> map = new LinkedHashMap<>();
    if (bytes == null) return map;
    ByteBuffer in = ByteBuffer.wrap(bytes);
    while (in.remaining() >= 4) {
      String k = read(in);
      String v = read(in);
      if (k != null && v != null) map.put(k, v);
    }
    return map;
  }

  private static String read(ByteBuffer in) {
    int n = in.getInt();
    if (n < 0) return null;
    byte[] b = new byte[n];
    in.get(b);
    return new String(b, StandardCharsets.UTF_8);
  }
}
