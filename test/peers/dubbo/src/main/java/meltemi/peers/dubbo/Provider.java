package meltemi.peers.dubbo;

import org.apache.dubbo.config.ApplicationConfig;
import org.apache.dubbo.config.ProtocolConfig;
import org.apache.dubbo.config.RegistryConfig;
import org.apache.dubbo.config.ServiceConfig;
import org.apache.dubbo.config.bootstrap.DubboBootstrap;

/**
 * A Dubbo provider on 127.0.0.1:PORT (dubbo protocol, hessian2, no registry) exporting EchoService twice:
 * without group/version, and as group "blue" version "1.0.0". Prints "READY <port>" once serving.
 * Usage: Provider PORT [--exit-on-stdin-eof]  (the flag makes it exit when its parent goes away)
 */
public final class Provider {
    public static void main(String[] args) throws Exception {
        int port = Integer.parseInt(args[0]);
        if (args.length > 1 && args[1].equals("--exit-on-stdin-eof")) exitOnStdinEof();
        Logs.quiet();
        ApplicationConfig app = new ApplicationConfig("meltemi-test-provider");
        app.setQosEnable(false);
        app.setRegisterMode("interface");

        ProtocolConfig protocol = new ProtocolConfig("dubbo", port);
        protocol.setHost("127.0.0.1");
        protocol.setSerialization("hessian2");
        protocol.setServer("loopback"); // see LoopbackTransporter

        DubboBootstrap bootstrap = DubboBootstrap.getInstance()
                .application(app)
                .registry(new RegistryConfig(RegistryConfig.NO_AVAILABLE))
                .protocol(protocol)
                .service(service(null, null))
                .service(service("blue", "1.0.0"))
                .start();
        System.out.println("READY " + port);
        System.out.flush();
        Runtime.getRuntime().addShutdownHook(new Thread(bootstrap::stop));
        bootstrap.await();
    }

    private static void exitOnStdinEof() {
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
    }

    private static ServiceConfig<EchoService> service(String group, String version) {
        ServiceConfig<EchoService> service = new ServiceConfig<>();
        service.setInterface(EchoService.class);
        service.setRef(new EchoServiceImpl());
        if (group != null) service.setGroup(group);
        if (version != null) service.setVersion(version);
        return service;
    }
}
