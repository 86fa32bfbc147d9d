package meltemi.peers.bolt;

import com.alipay.remoting.DefaultCustomSerializer;
import com.alipay.remoting.InvokeContext;
import com.alipay.remoting.exception.DeserializationException;
import com.alipay.remoting.rpc.RequestCommand;
import com.alipay.remoting.rpc.protocol.RpcRequestCommand;
import com.alipay.remoting.serialization.SerializerManager;
import java.util.Map;

/**
 * Bolt's hook for the header section of String requests: the client writes the headers the
 * InvokeContext holds (SOFA RPC's service and method among them); the server hands the processor the
 * argument and the headers it received, as "arg\tk=v;k=v".
 */
final class HeaderSerializer extends DefaultCustomSerializer {
  static final String HEADERS = "meltemi.headers";

  @Override
  @SuppressWarnings("unchecked")
  public <T extends RequestCommand> boolean serializeHeader(T request, InvokeContext ctx) {
    Object headers = ctx == null ? null : ctx.get(HEADERS);
    if (headers == null) return false;
    request.setHeader(HeaderMap.encode((Map<String, String>) headers));
    return true;
  }

  @Override
  public <T extends RequestCommand> boolean deserializeContent(T request) throws DeserializationException {
    RpcRequestCommand cmd = (RpcRequestCommand) request;
    try {
      Object arg = SerializerManager.getSerializer(cmd.getSerializer()).deserialize(cmd.getContent(), cmd.getRequestClass());
      StringBuilder seen = new StringBuilder();
      for (Map.Entry<String, String> e : HeaderMap.decode(cmd.getHeader()).entrySet()) {
        if (seen.length() > 0) seen.append(';');
        seen.append(e.getKey()).append('=').append(e.getValue());
      }
      cmd.setRequestObject(arg + "\t" + seen);
      return true;
    } catch (Exception e) {
      throw new DeserializationException("meltemi peer: content", e);
    }
  }
}
