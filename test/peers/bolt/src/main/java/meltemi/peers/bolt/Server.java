package meltemi.peers.bolt;

import com.alipay.remoting.BizContext;
import com.alipay.remoting.CustomSerializerManager;
import com.alipay.remoting.rpc.RpcServer;
import com.alipay.remoting.rpc.protocol.SyncUserProcessor;

/**
 * `Server NAME PORT`: a Bolt RpcServer on 127.0.0.1:PORT answering String requests with
 * "NAME:arg [headers]"; an argument "fail:MSG" makes the processor throw IllegalStateException(MSG).
 * Prints "READY PORT" once listening.
 */
public final class Server {
  public static void main(String[] args) throws Exception {
    Logs.quiet();
    String name = args[0];
    int port = Integer.parseInt(args[1]);
    CustomSerializerManager.registerCustomSerializer(String.class.getName(), new HeaderSerializer());
    RpcServer server = new RpcServer("127.0.0.1", port, false);
    server.registerUserProcessor(new SyncUserProcessor<String>() {
      @Override
      public Object handleRequest(BizContext ctx, String request) {
        String[] parts = request.split("\t", 2);
        if (parts[0].startsWith("fail:")) throw new IllegalStateException(parts[0].substring(5));
        return name + ":" + parts[0] + " [" + (parts.length > 1 ? parts[1] : "") + "]";
      }

      @Override
      public String interest() { return String.class.getName(); }
    });
    server.startup();
    System.out.println("READY " + port);
    System.out.flush();
    Thread.currentThread().join();
  }
}
