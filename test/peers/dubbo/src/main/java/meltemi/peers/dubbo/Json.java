package meltemi.peers.dubbo;

import java.util.Map;
import java.util.TreeMap;

/** Just enough JSON output for the consumer's results (strings, maps, null, numbers, booleans). */
final class Json {
    static String of(Object v) {
        if (v == null) return "null";
        if (v instanceof Number || v instanceof Boolean) return v.toString();
        if (v instanceof Map<?, ?> m) {
            StringBuilder sb = new StringBuilder("{");
            new TreeMap<>(m).forEach((k, val) -> {
                if (sb.length() > 1) sb.append(',');
                sb.append(of(String.valueOf(k))).append(':').append(of(val instanceof Map ? val : String.valueOf(val)));
            });
            return sb.append('}').toString();
        }
        String s = v.toString();
        StringBuilder sb = new StringBuilder("\"");
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> sb.append("\\\"");
                case '\\' -> sb.append("\\\\");
                case '\n' -> sb.append("\\n");
                case '\r' -> sb.append("\\r");
                case '\t' -> sb.append("\\t");
                default -> {
                    if (c < 0x20) sb.append(String.format("\\u%04x", (int) c));
                    else sb.append(c);
                }
            }
        }
        return sb.append('"').toString();
    }

    private Json() {}
}
