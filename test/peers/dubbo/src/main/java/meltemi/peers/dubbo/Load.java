package meltemi.peers.dubbo;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Semaphore;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

import org.apache.dubbo.config.ApplicationConfig;
import org.apache.dubbo.config.ReferenceConfig;
import org.apache.dubbo.config.bootstrap.DubboBootstrap;
import org.apache.dubbo.rpc.RpcContext;

/**
 * An open-loop load generator for the demo: calls EchoService at URL at RATE calls a second, each call
 * one of the given methods drawn by weight, until stdin closes (its parent is gone) or it is killed.
 * Usage: Load URL RATE METHOD:WEIGHT[,METHOD:WEIGHT...]   (methods: echo, nothing)
 * Warms the path up (warmUp), prints "READY", then one JSON line per finished call:
 *   {"method":"echo","ok":true,"servedBy":"greeter-v1","micros":812}
 *   {"method":"echo","ok":false,"micros":640,"error":"<innermost cause message>"}
 * No retries (a rejected call is reported, not retried); at most 64 calls in flight, so a stalled
 * upstream slows the load instead of piling up threads.
 */
public final class Load {
    public static void main(String[] args) throws Exception {
        String url = args[0];
        double rate = Double.parseDouble(args[1]);
        List<String> methods = new ArrayList<>();
        List<Integer> weights = new ArrayList<>();
        int total = 0;
        for (String mw : args[2].split(",")) {
            String[] p = mw.split(":");
            methods.add(p[0]);
            int w = Integer.parseInt(p[1]);
            weights.add(w);
            total += w;
        }
        Logs.quiet();
        Thread watchdog = new Thread(() -> {
            try {
                while (System.in.read() >= 0) { /* ignore input */ }
            } catch (java.io.IOException e) {
                // the parent is gone too
            }
            Runtime.getRuntime().halt(0);
        }, "stdin-watchdog");
        watchdog.setDaemon(true);
        watchdog.start();

        ApplicationConfig app = new ApplicationConfig("meltemi-demo-load");
        app.setQosEnable(false);
        DubboBootstrap.getInstance().application(app).start();
        ReferenceConfig<EchoService> ref = new ReferenceConfig<>();
        ref.setInterface(EchoService.class);
        ref.setUrl(url + "?serialization=hessian2&prefer.serialization=hessian2&client=loopback");
        ref.setCheck(false);
        ref.setTimeout(3000);
        ref.setRetries(0);
        EchoService echo = ref.get();
        warmUp(url, methods);
        System.out.println("READY");
        System.out.flush();

        ExecutorService pool = Executors.newCachedThreadPool();
        Semaphore inFlight = new Semaphore(64);
        long periodNanos = (long) (1e9 / rate);
        long next = System.nanoTime();
        for (long n = 0; ; n++) {
            next += periodNanos;
            long wait = next - System.nanoTime();
            if (wait > 0) TimeUnit.NANOSECONDS.sleep(wait);
            int draw = ThreadLocalRandom.current().nextInt(total);
            int i = 0;
            while (draw >= weights.get(i)) draw -= weights.get(i++);
            String method = methods.get(i);
            String arg = "call " + n;
            inFlight.acquire();
            pool.execute(() -> {
                long start = System.nanoTime();
                String line;
                try {
                    if (method.equals("nothing")) echo.nothing(arg);
                    else echo.echo(arg);
                    long micros = (System.nanoTime() - start) / 1000;
                    Object by = RpcContext.getServerContext().getObjectAttachments().get("served-by");
                    line = "{\"method\":" + Json.of(method) + ",\"ok\":true,\"servedBy\":" + Json.of(by) + ",\"micros\":" + micros + "}";
                } catch (Throwable e) {
                    long micros = (System.nanoTime() - start) / 1000;
                    Throwable root = e;
                    while (root.getCause() != null && root.getCause() != root) root = root.getCause();
                    String message = root.getMessage() != null ? root.getMessage() : root.getClass().getName();
                    line = "{\"method\":" + Json.of(method) + ",\"ok\":false,\"micros\":" + micros + ",\"error\":" + Json.of(message) + "}";
                } finally {
                    inFlight.release();
                }
                synchronized (System.out) {
                    System.out.println(line);
                    System.out.flush();
                }
            });
        }
    }

    /**
     * A few calls of each method with a long timeout before the measured load, through the same path:
     * cold JVMs (this one and the providers) on a busy machine otherwise answer the first calls after the
     * load's 3 s timeout. Their outcomes (rejections included) are not reported.
     */
    private static void warmUp(String url, List<String> methods) {
        ReferenceConfig<EchoService> ref = new ReferenceConfig<>();
        ref.setInterface(EchoService.class);
        ref.setUrl(url + "?serialization=hessian2&prefer.serialization=hessian2&client=loopback");
        ref.setCheck(false);
        ref.setTimeout(30000);
        ref.setRetries(0);
        EchoService echo = ref.get();
        for (int i = 0; i < 8; i++) {
            for (String method : methods) {
                try {
                    if (method.equals("nothing")) echo.nothing("warm-up"); else echo.echo("warm-up");
                } catch (RuntimeException e) {
                    // a rejection or a slow start: the point is only to have run the path
                }
            }
        }
    }

    private Load() {}
}
