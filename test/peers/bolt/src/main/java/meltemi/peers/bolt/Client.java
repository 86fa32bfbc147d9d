package meltemi.peers.bolt;

import com.alipay.remoting.CustomSerializerManager;
import com.alipay.remoting.InvokeContext;
import com.alipay.remoting.rpc.RpcClient;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * `Client`: prints READY, then makes one call per stdin line of tab-separated key=value fields:
 * addr=127.0.0.1:PORT, method=NAME (SOFA RPC's sofa_head_method_name header), arg=TEXT, optional
 * timeout= (ms, default 3000), close=1 (close the connection after the call), h.KEY=VALUE headers.
 * Prints one JSON line per call: {"ok":true,"result":...} or {"ok":false,"error":CLASS,"message":...}.
 */
public final class Client {
  public static void main(String[] args) throws Exception {
    Logs.quiet();
    CustomSerializerManager.registerCustomSerializer(String.class.getName(), new HeaderSerializer());
    RpcClient client = new RpcClient();
    client.startup();
    System.out.println("READY");
    System.out.flush();
    BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
    for (String line; (line = in.readLine()) != null; ) {
      Map<String, String> f = new LinkedHashMap<>();
      Map<String, String> headers = new LinkedHashMap<>();
      for (String field : line.split("\t")) {
        int eq = field.indexOf('=');
        if (eq < 0) continue;
        String k = field.substring(0, eq), v = field.substring(eq + 1);
        if (k.startsWith("h.")) headers.put(k.substring(2), v); else f.put(k, v);
      }
      Map<String, String> all = new LinkedHashMap<>();
      all.put("service", "org.example.Greeter:1.0");
      all.put("sofa_head_method_name", f.getOrDefault("method", "greet"));
      all.putAll(headers);
      InvokeContext ctx = new InvokeContext();
      ctx.put(HeaderSerializer.HEADERS, all);
      String addr = f.get("addr");
      String out;
      try {
        Object r = client.invokeSync(addr, f.getOrDefault("arg", ""), ctx, Integer.parseInt(f.getOrDefault("timeout", "3000")));
        out = "{\"ok\":true,\"result\":" + json(String.valueOf(r)) + "}";
      } catch (Throwable e) {
        Throwable root = e;
        while (root.getCause() != null && root.getCause() != root) root = root.getCause();
        out = "{\"ok\":false,\"error\":" + json(e.getClass().getSimpleName()) + ",\"message\":" + json(String.valueOf(e.getMessage()))
            + ",\"root\":" + json(root.getClass().getName() + ": " + root.getMessage()) + "}";
      }
      if ("1".equals(f.get("close"))) client.closeConnection(addr);
      System.out.println(out);
      System.out.flush();
    }
    client.shutdown();
    System.exit(0);
  }

  static String json(String s) {
    StringBuilder b = new StringBuilder("\"");
    for (char c : s.toCharArray()) {
      if (c == '"' || c == '\\') b.append('\\').append(c);
      else if (c < 0x20) b.append(String.format("\\u%04x", (int) c));
      else b.append(c);
    }
    return b.append('"').toString();
  }
}
