// The controller's Prometheus metrics (prom-client), plus Node's process metrics (heap, CPU, fds).
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";

export class ControllerMetrics {
  readonly registry = new Registry();
  readonly reconciles = new Counter({ name: "meltemi_reconciles_total", help: "Reconciles run, by result (success, error, skipped: not the leader)", labelNames: ["result"] as const, registers: [this.registry] });
  readonly reconcileDuration = new Histogram({
    name: "meltemi_reconcile_duration_seconds",
    help: "Time of one reconcile: snapshot, translation, apply, delete, status",
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [this.registry],
  });
  readonly errors = new Counter({ name: "meltemi_reconcile_errors_total", help: "Failed API writes during reconciles, by operation", labelNames: ["operation"] as const, registers: [this.registry] });
  readonly writes = new Counter({ name: "meltemi_object_writes_total", help: "Objects written, by operation (apply, delete, status)", labelNames: ["operation"] as const, registers: [this.registry] });
  readonly managedObjects = new Gauge({ name: "meltemi_desired_objects", help: "WasmPlugins / EnvoyFilters the last translation wanted, by kind", labelNames: ["kind"] as const, registers: [this.registry] });
  readonly diagnostics = new Gauge({ name: "meltemi_diagnostics", help: "Diagnostics of the last translation, by severity", labelNames: ["severity"] as const, registers: [this.registry] });
  readonly leader = new Gauge({ name: "meltemi_leader", help: "1 while this replica holds the Lease", registers: [this.registry] });

  constructor() {
    collectDefaultMetrics({ register: this.registry });
    for (const result of ["success", "error", "skipped"]) this.reconciles.inc({ result }, 0);
    for (const operation of ["apply", "delete", "status"]) {
      this.errors.inc({ operation }, 0);
      this.writes.inc({ operation }, 0);
    }
  }
}
