package meltemi.peers.dubbo;

import java.util.logging.ConsoleHandler;
import java.util.logging.Level;
import java.util.logging.Logger;

/** Dubbo logs through java.util.logging here: warnings to stderr, plus heartbeat events the tests look for. */
final class Logs {
    private static final Logger HEARTBEAT = Logger.getLogger("org.apache.dubbo.remoting.exchange.support.header.HeartbeatHandler");

    static void quiet() {
        System.setProperty("dubbo.application.logger", "jdk");
        Logger root = Logger.getLogger("");
        root.setLevel(Level.WARNING);
        for (var h : root.getHandlers()) h.setLevel(Level.ALL);
        HEARTBEAT.setLevel(Level.FINE);
    }

    private Logs() {}
}
