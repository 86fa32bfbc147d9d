package meltemi.peers.dubbo;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Date;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

import org.apache.dubbo.config.ApplicationConfig;
import org.apache.dubbo.config.MethodConfig;
import org.apache.dubbo.config.ReferenceConfig;
import org.apache.dubbo.config.TracingConfig;
import org.apache.dubbo.config.bootstrap.DubboBootstrap;
import org.apache.dubbo.config.nested.ExporterConfig;
import org.apache.dubbo.config.nested.PropagationConfig;
import org.apache.dubbo.config.nested.SamplingConfig;
import org.apache.dubbo.rpc.RpcContext;
import org.apache.dubbo.rpc.RpcException;

/**
 * A Dubbo consumer driven by stdin, one call per line, so that one JVM serves a whole test file.
 * A line is tab-separated key=value fields:
 *   url=dubbo://127.0.0.1:PORT  method=echo|nothing|fail|mixed|note  arg=TEXT
 *   [group=G] [version=V] [timeout=MS] [retries=N] [heartbeat=MS] [att.KEY=VALUE]...
 * Each call prints one JSON line: {"ok":true,"result":...,"responseAttachments":{...}} or
 * {"ok":false,"errorClass":...,"message":...,"rpcCode":N,"biz":B,"causeClass":...,"causeMessage":...,
 * "rootClass":...,"rootMessage":...} (root: the innermost cause). Prints "READY" at start.
 * With -Dmeltemi.tracing.zipkin=ENDPOINT (e.g. http://127.0.0.1:9411/api/v2/spans) Dubbo's own tracing
 * is on: every call is sampled, its client span is reported to that Zipkin endpoint, and its context
 * goes to the provider in the attachments, as -Dmeltemi.tracing.propagation (W3C, default, or B3) says.
 * It needs Micrometer Tracing, Brave and the Zipkin reporter on the classpath: test/peers/dubbo-tracing.
 */
public final class Consumer {
    private static final Map<String, EchoService> REFERENCES = new ConcurrentHashMap<>();

    private static TracingConfig tracing(String zipkinEndpoint, String propagation) {
        TracingConfig tracing = new TracingConfig();
        tracing.setEnabled(true);
        tracing.setSampling(new SamplingConfig(1.0f));
        tracing.setPropagation(new PropagationConfig(propagation));
        ExporterConfig exporter = new ExporterConfig();
        exporter.setZipkinConfig(new ExporterConfig.ZipkinConfig(zipkinEndpoint));
        tracing.setTracingExporter(exporter);
        return tracing;
    }

    public static void main(String[] args) throws Exception {
        Logs.quiet();
        ApplicationConfig app = new ApplicationConfig("meltemi-test-consumer");
        app.setQosEnable(false);
        DubboBootstrap bootstrap = DubboBootstrap.getInstance().application(app);
        String zipkin = System.getProperty("meltemi.tracing.zipkin");
        if (zipkin != null) bootstrap.tracing(tracing(zipkin, System.getProperty("meltemi.tracing.propagation", PropagationConfig.W3C)));
        bootstrap.start();
        System.out.println("READY");
        System.out.flush();

        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        for (String line; (line = in.readLine()) != null; ) {
            if (line.isBlank()) continue;
            System.out.println(call(parse(line)));
            System.out.flush();
        }
        DubboBootstrap.getInstance().stop();
        System.exit(0);
    }

    private static Map<String, String> parse(String line) {
        Map<String, String> fields = new LinkedHashMap<>();
        for (String field : line.split("\t")) {
            int eq = field.indexOf('=');
            if (eq > 0) fields.put(field.substring(0, eq), field.substring(eq + 1));
        }
        return fields;
    }

    private static String call(Map<String, String> f) {
        try {
            EchoService echo = reference(f);
            RpcContext.getClientAttachment().clearAttachments();
            f.forEach((k, v) -> {
                if (k.startsWith("att.")) RpcContext.getClientAttachment().setAttachment(k.substring(4), v);
            });
            String arg = f.getOrDefault("arg", "");
            Object result;
            switch (f.getOrDefault("method", "echo")) {
                case "echo" -> result = echo.echo(arg);
                case "nothing" -> result = echo.nothing(arg);
                case "fail" -> result = echo.fail(arg);
                case "mixed" -> result = mixed(echo, arg);
                case "note" -> { echo.note(arg); result = null; }
                default -> throw new IllegalArgumentException("unknown method " + f.get("method"));
            }
            Map<String, Object> responseAttachments = RpcContext.getServerContext().getObjectAttachments();
            return "{\"ok\":true,\"result\":" + Json.of(result) + ",\"responseAttachments\":" + Json.of(responseAttachments) + "}";
        } catch (Throwable e) {
            Throwable cause = e.getCause();
            Throwable root = e;
            while (root.getCause() != null && root.getCause() != root) root = root.getCause();
            return "{\"ok\":false,\"errorClass\":" + Json.of(e.getClass().getName())
                    + ",\"message\":" + Json.of(e.getMessage())
                    + ",\"rpcCode\":" + (e instanceof RpcException r ? r.getCode() : -1)
                    + ",\"biz\":" + (e instanceof RpcException r && r.isBiz())
                    + ",\"causeClass\":" + Json.of(cause == null ? null : cause.getClass().getName())
                    + ",\"causeMessage\":" + Json.of(cause == null ? null : cause.getMessage())
                    + ",\"rootClass\":" + Json.of(root.getClass().getName())
                    + ",\"rootMessage\":" + Json.of(root.getMessage()) + "}";
        }
    }

    private static EchoService reference(Map<String, String> f) {
        String url = f.get("url") + "?serialization=hessian2&prefer.serialization=hessian2&client=loopback"
                + (f.containsKey("heartbeat") ? "&heartbeat=" + f.get("heartbeat") : "");
        String key = url + "|" + f.get("group") + "|" + f.get("version") + "|" + f.get("timeout") + "|" + f.get("retries");
        return REFERENCES.computeIfAbsent(key, k -> {
            ReferenceConfig<EchoService> ref = new ReferenceConfig<>();
            ref.setInterface(EchoService.class);
            ref.setUrl(url);
            ref.setCheck(false);
            if (f.containsKey("group")) ref.setGroup(f.get("group"));
            if (f.containsKey("version")) ref.setVersion(f.get("version"));
            ref.setTimeout(Integer.parseInt(f.getOrDefault("timeout", "5000")));
            ref.setRetries(Integer.parseInt(f.getOrDefault("retries", "0")));
            MethodConfig note = new MethodConfig();
            note.setName("note");
            note.setReturn(false);
            ref.setMethods(List.of(note));
            return ref.get();
        });
    }

    /** Calls mixed() with arguments that exercise many hessian2 encodings: class defs, refs, lists, maps... */
    private static Object mixed(EchoService echo, String text) {
        Payload p = new Payload();
        p.name = text;
        p.count = -70000;
        p.big = 1L << 40;
        p.ratio = 3.25;
        p.small = 1.5f;
        p.tiny = -300;
        p.octet = 7;
        p.letter = 'é';
        p.flag = true;
        p.when = new Date(1700000000000L);
        p.blob = new byte[2000];
        Arrays.fill(p.blob, (byte) 0xab);
        p.ints = new int[] {0, -16, 47, 2047, 262143, Integer.MAX_VALUE, Integer.MIN_VALUE};
        p.names = new String[] {"", "a", "ünïcödé", "日本語", "emoji 😀"};
        p.tags = new ArrayList<>(List.of("x", "y"));
        p.scores = new HashMap<>(Map.of("a", 1, "b", 1000000));
        p.color = Payload.Color.GREEN;
        Payload child = new Payload();
        child.name = "child";
        child.next = p; // a cycle: hessian2 writes a ref
        p.next = child;
        p.any = Map.of("nested", List.of(1L, 2.0, "three", new Date(0)));

        List<Object> list = new ArrayList<>();
        list.add(null);
        list.add(p); // the same object again: a ref
        list.add("s".repeat(40000)); // a chunked string
        list.add(new byte[70000]); // a chunked binary
        list.add(Long.MIN_VALUE);
        list.add(-1L);
        list.add(300L);
        list.add(0.0);
        list.add(1.0);
        list.add(-128.0);
        list.add(32767.0);
        list.add(0.1);
        list.add(new long[] {1, 2});
        list.add(List.of());
        list.add(new Date(60_000L * 12345));
        Map<String, Object> map = new LinkedHashMap<>();
        map.put("k", List.of(List.of(List.of("deep"))));
        map.put("payload", child);
        return echo.mixed(p, list, map, new byte[] {1, 2, 3}, 42, 1L << 50, Math.PI, new Date(1234567890123L), false, text);
    }
}
