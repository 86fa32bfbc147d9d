// Structured logs: one JSON object per line on stdout (pino), as log collectors in a cluster expect.
import { pino, type Logger } from "pino";
import type { LogLevel } from "./config";

export function makeLogger(level: LogLevel): Logger {
  return pino({
    level,
    base: { component: "meltemi-controller" },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
  });
}
