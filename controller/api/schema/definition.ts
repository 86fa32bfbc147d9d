// What one Meltemi CRD is made of; controller/api/crd.ts turns it into a CustomResourceDefinition.
import type { Schema } from "./builders";

export interface PrinterColumn {
  name: string;
  type: "string" | "integer" | "number" | "boolean" | "date";
  jsonPath: string;
  description?: string;
  priority?: number;
}

export interface CrdDefinition {
  kind: string;
  plural: string;
  singular: string;
  shortNames: string[];
  scope: "Namespaced" | "Cluster";
  description: string;
  spec: Schema;
  /** Constraint on metadata.name (the only metadata a structural schema may constrain). */
  name?: { pattern: string; maxLength: number };
  printerColumns: PrinterColumn[];
  /** Status fields besides observedGeneration and conditions. */
  statusFields?: Record<string, Schema>;
}

export const GROUP = "meltemi.dev";
export const VERSION = "v1alpha1";
export const API_VERSION = `${GROUP}/${VERSION}`;

export const readyColumns: PrinterColumn[] = [
  { name: "Ready", type: "string", jsonPath: '.status.conditions[?(@.type=="Ready")].status' },
  { name: "Reason", type: "string", jsonPath: '.status.conditions[?(@.type=="Ready")].reason' },
  { name: "Age", type: "date", jsonPath: ".metadata.creationTimestamp" },
];
