package meltemi.peers.dubbo;

import java.util.Date;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import org.apache.dubbo.rpc.RpcContext;

public class EchoServiceImpl implements EchoService {
    /** Who answers, as the response attachment "served-by" (the demo runs one provider per version). */
    private static final String SERVED_BY = System.getProperty("meltemi.served-by", "meltemi-test-provider");

    @Override
    public Map<String, String> echo(String text) {
        return whatArrived(text);
    }

    @Override
    public String nothing(String text) {
        RpcContext.getServerContext().setAttachment("served-by", SERVED_BY);
        return null;
    }

    @Override
    public String fail(String message) {
        throw new IllegalStateException(message);
    }

    @Override
    public Map<String, String> mixed(Payload payload, List<Object> list, Map<String, Object> map, byte[] data,
                                     int i, long l, double d, Date date, boolean b, String s) {
        Map<String, String> out = whatArrived(s);
        out.put("payload.name", payload == null ? "null" : payload.name);
        out.put("list.size", String.valueOf(list == null ? -1 : list.size()));
        out.put("data.length", String.valueOf(data == null ? -1 : data.length));
        out.put("l", String.valueOf(l));
        return out;
    }

    @Override
    public void note(String text) {
        System.out.println("NOTE " + text);
        System.out.flush();
    }

    private static Map<String, String> whatArrived(String text) {
        Map<String, String> out = new TreeMap<>();
        out.put("arg", String.valueOf(text));
        RpcContext.getServerAttachment().getObjectAttachments()
                .forEach((k, v) -> out.put("att:" + k, String.valueOf(v)));
        // A response attachment, so that replies carry RESPONSE_*_WITH_ATTACHMENTS content.
        RpcContext.getServerContext().setAttachment("served-by", SERVED_BY);
        return out;
    }
}
