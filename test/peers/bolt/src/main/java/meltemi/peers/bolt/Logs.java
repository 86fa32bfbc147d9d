package meltemi.peers.bolt;

/** Bolt logs through sofa-common-tools into ~/logs by default: keep them in the temp directory. */
final class Logs {
  private Logs() {}

  static void quiet() {
    System.setProperty("logging.path", System.getProperty("java.io.tmpdir") + "/meltemi-bolt-logs");
  }
}
