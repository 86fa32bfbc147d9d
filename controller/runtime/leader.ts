// Leader election on a coordination.k8s.io/v1 Lease (client-go's leaderelection, simplified): only the
// holder writes. A replica takes the Lease when it is free (no holder) or when its holder has not renewed
// it for leaseDuration as observed HERE (the local clock measures how long the record stayed unchanged;
// no clock comparison across machines). The holder renews every retryPeriod; if it cannot renew for
// renewDeadline it stops writing at once (onStopLeading) and competes again. Writes use the Lease's
// resourceVersion (optimistic concurrency): two replicas cannot both win one round.
// On shutdown the holder releases the Lease (empty holder, 1 s duration) so a successor starts at once.
import type { Logger } from "pino";
import { isConflict, isNotFound, type KubeHttp } from "./kube_http";

export interface LeaderConfig {
  namespace: string;
  name: string;
  identity: string;
  leaseDurationSeconds: number;
  renewDeadlineSeconds: number;
  retryPeriodSeconds: number;
}

interface Lease {
  apiVersion: "coordination.k8s.io/v1";
  kind: "Lease";
  metadata: { name: string; namespace: string; resourceVersion?: string };
  spec: {
    holderIdentity?: string | null;
    leaseDurationSeconds?: number;
    acquireTime?: string;
    renewTime?: string;
    leaseTransitions?: number;
  };
}

/** MicroTime: RFC 3339 with exactly six fractional digits. */
function microTime(d = new Date()): string {
  return d.toISOString().replace(/\.(\d{3})Z$/, ".$1000Z");
}

export class LeaderElector {
  private leading = false;
  private stopped = false;
  private timer?: NodeJS.Timeout;
  private observed?: { record: string; at: number };
  private lastRenew = 0;
  private readonly path: string;

  constructor(
    private readonly http: KubeHttp,
    private readonly config: LeaderConfig,
    private readonly callbacks: { onStartLeading: () => void; onStopLeading: () => void },
    private readonly log: Logger,
  ) {
    this.path = `/apis/coordination.k8s.io/v1/namespaces/${encodeURIComponent(config.namespace)}/leases`;
  }

  get isLeader(): boolean {
    // A leader that has not renewed within the deadline must not write, even before the timer notices.
    return this.leading && Date.now() - this.lastRenew < this.config.renewDeadlineSeconds * 1000;
  }

  start(): void {
    void this.tick();
  }

  /** Stops competing; a leader releases the Lease. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    if (this.leading) {
      this.setLeading(false);
      await this.release();
    }
  }

  private async tick(): Promise<void> {
    if (this.stopped) return;
    try {
      await this.tryAcquireOrRenew();
    } catch (err) {
      this.log.warn({ lease: this.config.name, err: String((err as Error).message) }, "lease update failed");
    }
    if (this.leading && Date.now() - this.lastRenew >= this.config.renewDeadlineSeconds * 1000) {
      this.log.error({ lease: this.config.name }, "could not renew the lease within the renew deadline; no longer leading");
      this.setLeading(false);
    }
    if (!this.stopped) this.timer = setTimeout(() => void this.tick(), this.config.retryPeriodSeconds * 1000);
  }

  private async tryAcquireOrRenew(): Promise<void> {
    const { identity, leaseDurationSeconds } = this.config;
    const now = microTime();
    let lease: Lease;
    try {
      lease = await this.http.request<Lease>("GET", `${this.path}/${encodeURIComponent(this.config.name)}`, { timeoutMs: 5000 });
    } catch (err) {
      if (!isNotFound(err)) throw err;
      const created: Lease = {
        apiVersion: "coordination.k8s.io/v1",
        kind: "Lease",
        metadata: { name: this.config.name, namespace: this.config.namespace },
        spec: { holderIdentity: identity, leaseDurationSeconds, acquireTime: now, renewTime: now, leaseTransitions: 0 },
      };
      try {
        await this.http.request("POST", this.path, { body: created, timeoutMs: 5000 });
      } catch (e) {
        if (isConflict(e)) return; // another replica created it first
        throw e;
      }
      this.renewed();
      return;
    }

    const spec = lease.spec ?? {};
    const record = JSON.stringify([spec.holderIdentity, spec.renewTime, spec.leaseDurationSeconds]);
    if (this.observed?.record !== record) this.observed = { record, at: Date.now() };
    const holder = spec.holderIdentity ?? "";
    const duration = (spec.leaseDurationSeconds ?? leaseDurationSeconds) * 1000;
    const expired = Date.now() - this.observed.at >= duration;
    if (holder !== "" && holder !== identity && !expired) {
      if (this.leading) this.setLeading(false);
      return;
    }
    const taking = holder !== identity;
    const next: Lease = {
      ...lease,
      spec: {
        ...spec,
        holderIdentity: identity,
        leaseDurationSeconds,
        renewTime: now,
        ...(taking ? { acquireTime: now, leaseTransitions: (spec.leaseTransitions ?? 0) + (holder === "" ? 0 : 1) } : {}),
      },
    };
    try {
      // PUT with the read resourceVersion: fails with 409 if anyone changed the Lease since.
      await this.http.request("PUT", `${this.path}/${encodeURIComponent(this.config.name)}`, { body: next, timeoutMs: 5000 });
    } catch (err) {
      if (isConflict(err)) return;
      throw err;
    }
    this.renewed();
  }

  private renewed(): void {
    this.lastRenew = Date.now();
    if (!this.leading) this.setLeading(true);
  }

  private setLeading(leading: boolean): void {
    this.leading = leading;
    this.log.info({ lease: `${this.config.namespace}/${this.config.name}`, identity: this.config.identity }, leading ? "became leader" : "stopped leading");
    if (leading) this.callbacks.onStartLeading();
    else this.callbacks.onStopLeading();
  }

  private async release(): Promise<void> {
    try {
      const lease = await this.http.request<Lease>("GET", `${this.path}/${encodeURIComponent(this.config.name)}`, { timeoutMs: 5000 });
      if (lease.spec?.holderIdentity !== this.config.identity) return;
      lease.spec = { ...lease.spec, holderIdentity: null, leaseDurationSeconds: 1, renewTime: microTime() };
      await this.http.request("PUT", `${this.path}/${encodeURIComponent(this.config.name)}`, { body: lease, timeoutMs: 5000 });
      this.log.info({ lease: `${this.config.namespace}/${this.config.name}` }, "released the lease");
    } catch (err) {
      this.log.warn({ err: String((err as Error).message) }, "could not release the lease");
    }
  }
}
