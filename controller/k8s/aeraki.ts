// Aeraki's objects as users have them (aeraki-mesh/api: metaprotocol/v1alpha1/*.proto,
// dubbo/v1alpha1/dubbo_authorization_policy.proto), in their JSON field names, with JSON schemas that
// the readers check them against (unknown fields are reported, not silently dropped).
import type { KubeObject } from "./objects";

export interface AerakiStringMatch { exact?: string; prefix?: string; regex?: string }
export interface AerakiMatch { attributes?: Record<string, AerakiStringMatch | null> }
export interface AerakiDestination { host: string; subset?: string; port?: { number?: number } }
export interface AerakiTokenBucket { maxTokens?: number; tokensPerFill?: number; fillInterval: string }

export interface MetaRouterSpec {
  hosts?: string[];
  gateways?: string[];
  exportTo?: string[];
  routes?: {
    name?: string;
    match?: AerakiMatch;
    route?: { destination: AerakiDestination; weight?: number }[];
    mirror?: AerakiDestination;
    mirrorPercentage?: { value?: number };
    requestMutation?: { key: string; value: string }[];
    responseMutation?: { key: string; value: string }[];
  }[];
  localRateLimit?: {
    tokenBucket?: AerakiTokenBucket;
    conditions?: { match: AerakiMatch; tokenBucket: AerakiTokenBucket }[];
  };
  globalRateLimit?: AerakiGlobalRateLimit;
}

/** GlobalRateLimit of aeraki-mesh/api metaprotocol/v1alpha1/metaprotocol_metarouter.proto. */
export interface AerakiGlobalRateLimit {
  match?: AerakiMatch;
  domain?: string;
  /** A Duration as protobuf JSON writes it ("0.1s", or Go's "100ms" as Aeraki's samples do). */
  requestTimeout?: string;
  denyOnFail?: boolean;
  /** The Envoy cluster of the rate limit service, e.g. outbound|8081||rate-limit-server.ns.svc.cluster.local. */
  rateLimitService?: string;
  descriptors?: { property?: string; descriptorKey?: string }[];
}

export interface ApplicationProtocolSpec { protocol?: string; codec?: string }

export interface DubboAuthorizationPolicySpec {
  action?: "ALLOW" | "DENY";
  rules?: {
    from?: { source?: { principals?: string[]; notPrincipals?: string[]; namespaces?: string[]; notNamespaces?: string[] } }[];
    to?: { operation?: { interfaces?: string[]; notInterfaces?: string[]; methods?: string[]; notMethods?: string[] } }[];
  }[];
}

export type MetaRouter = KubeObject<MetaRouterSpec>;
export type ApplicationProtocol = KubeObject<ApplicationProtocolSpec>;
export type DubboAuthorizationPolicy = KubeObject<DubboAuthorizationPolicySpec>;

const stringList = { type: "array", items: { type: "string" } };
const stringMatch = {
  type: "object",
  
  properties: { exact: { type: "string" }, prefix: { type: "string" }, regex: { type: "string" } },
};
const match = {
  type: "object",
  
  // A null value (`method:` alone) passes here so that translate/match.ts refuses it with its reason.
  properties: { attributes: { type: "object", additionalProperties: { anyOf: [stringMatch, { type: "null" }] } } },
};
const destination = {
  type: "object",
  
  required: ["host"],
  properties: {
    host: { type: "string" },
    subset: { type: "string" },
    port: { type: "object", properties: { number: { type: "integer", minimum: 0, maximum: 4294967295 } } },
  },
};
const keyValues = {
  type: "array",
  items: { type: "object", required: ["key", "value"], properties: { key: { type: "string" }, value: { type: "string" } } },
};
const tokenBucket = {
  type: "object",
  
  required: ["fillInterval"],
  properties: {
    maxTokens: { type: "integer", minimum: 0, maximum: 4294967295 },
    tokensPerFill: { type: "integer", minimum: 0, maximum: 4294967295 },
    fillInterval: { type: "string" },
  },
};

export const metaRouterSpecSchema = {
  type: "object",
  
  properties: {
    hosts: stringList,
    gateways: stringList,
    exportTo: stringList,
    routes: {
      type: "array",
      items: {
        type: "object",
        
        properties: {
          name: { type: "string" },
          match,
          route: {
            type: "array",
            items: {
              type: "object",
              
              required: ["destination"],
              properties: { destination, weight: { type: "integer", minimum: 0, maximum: 4294967295 } },
            },
          },
          mirror: destination,
          mirrorPercentage: { type: "object", properties: { value: { type: "number" } } },
          requestMutation: keyValues,
          responseMutation: keyValues,
        },
      },
    },
    localRateLimit: {
      type: "object",
      
      properties: {
        tokenBucket,
        conditions: {
          type: "array",
          items: { type: "object", required: ["match", "tokenBucket"], properties: { match, tokenBucket } },
        },
      },
    },
    globalRateLimit: {
      type: "object",
      properties: {
        match,
        domain: { type: "string" },
        requestTimeout: { type: "string" },
        denyOnFail: { type: "boolean" },
        rateLimitService: { type: "string" },
        descriptors: { type: "array", items: { type: "object", properties: { property: { type: "string" }, descriptorKey: { type: "string" } } } },
      },
    },
  },
};

export const applicationProtocolSpecSchema = {
  type: "object",
  
  properties: { protocol: { type: "string" }, codec: { type: "string" } },
};

export const dubboAuthorizationPolicySpecSchema = {
  type: "object",
  
  properties: {
    action: { enum: ["ALLOW", "DENY"] },
    rules: {
      type: "array",
      items: {
        type: "object",
        
        properties: {
          from: {
            type: "array",
            items: {
              type: "object",
              
              properties: {
                source: {
                  type: "object",
                  
                  properties: { principals: stringList, notPrincipals: stringList, namespaces: stringList, notNamespaces: stringList },
                },
              },
            },
          },
          to: {
            type: "array",
            items: {
              type: "object",
              
              properties: {
                operation: {
                  type: "object",
                  
                  properties: { interfaces: stringList, notInterfaces: stringList, methods: stringList, notMethods: stringList },
                },
              },
            },
          },
        },
      },
    },
  },
};
