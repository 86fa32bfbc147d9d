package meltemi.peers.dubbo;

import java.util.Date;
import java.util.List;
import java.util.Map;

/** The service the test provider exports: each method produces one shape of Dubbo response. */
public interface EchoService {
    /** Returns {"arg": text, "att:<key>": value...}: the argument and every attachment that arrived. */
    Map<String, String> echo(String text);

    /** Returns null (response flag RESPONSE_NULL_VALUE / _WITH_ATTACHMENTS). */
    String nothing(String text);

    /** Throws IllegalStateException(message) (response flag RESPONSE_WITH_EXCEPTION / _WITH_ATTACHMENTS). */
    String fail(String message);

    /** Takes arguments of many hessian2 types (objects, refs, lists, maps, binary, dates...); echoes like echo(). */
    Map<String, String> mixed(Payload payload, List<Object> list, Map<String, Object> map, byte[] data,
                              int i, long l, double d, Date date, boolean b, String s);

    /** Called one-way by the consumer (return=false). */
    void note(String text);
}
