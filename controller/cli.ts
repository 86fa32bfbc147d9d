#!/usr/bin/env node
// The meltemi command. `render` runs the controller's translation offline on YAML files.
//   node --import tsx controller/cli.ts render -f demo/ --wasm-url oci://...@sha256:<digest>
import { readFileSync } from "node:fs";
import { Command, InvalidArgumentError, Option } from "commander";
import { DEFAULT_OPTIONS, type FailStrategy, type TranslateOptions } from "./translate/options";
import { render } from "./render/render";

function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError("not a positive integer");
  return n;
}

async function readStdin(): Promise<string> {
  return readFileSync(0, "utf8");
}

interface RenderFlags {
  filename: string[];
  output: "yaml" | "json";
  namespace: string;
  wasmUrl?: string;
  wasmSha256?: string;
  imagePullSecret?: string;
  trafficExtension: boolean;
  rootNamespace: string;
  clusterDomain: string;
  codecs: string;
  failStrategy: FailStrategy;
  earlyDataBytes: number;
  status: boolean;
}

function translateOptions(flags: RenderFlags): { options: Partial<TranslateOptions>; warnings: string[] } {
  const warnings: string[] = [];
  let url = flags.wasmUrl;
  let sha256 = flags.wasmSha256;
  // An oci:// url pinned by digest carries the sha256 WasmPlugin wants.
  if (url && !sha256) sha256 = /@sha256:([a-f0-9]{64})$/.exec(url)?.[1];
  if (!url) {
    url = DEFAULT_OPTIONS.wasm.url;
    sha256 ??= DEFAULT_OPTIONS.wasm.sha256;
    warnings.push(`warning: no --wasm-url: the output names a placeholder module (${url}); pass the image wasm-build published`);
  }
  if (!sha256) throw new InvalidArgumentError("--wasm-sha256 is required unless --wasm-url ends in @sha256:<digest>");
  const wasm: TranslateOptions["wasm"] = { url, sha256 };
  if (flags.imagePullSecret) wasm.imagePullSecret = flags.imagePullSecret;
  return {
    options: {
      wasm,
      trafficExtension: flags.trafficExtension,
      rootNamespace: flags.rootNamespace,
      clusterDomain: flags.clusterDomain,
      codecs: flags.codecs.split(",").map((c) => c.trim()).filter((c) => c !== ""),
      failStrategy: flags.failStrategy,
      earlyDataBytes: flags.earlyDataBytes,
    },
    warnings,
  };
}

export function program(): Command {
  const cmd = new Command("meltemi").description("Meltemi: L7 traffic management for non-HTTP RPC on stock Istio").showHelpAfterError();
  cmd
    .command("render")
    .description("translate Meltemi / Aeraki / Istio YAML into the WasmPlugin and EnvoyFilter objects Meltemi would apply")
    .requiredOption("-f, --filename <paths...>", "files or directories of YAML/JSON objects ('-' reads stdin)")
    .addOption(new Option("-o, --output <format>", "output format").choices(["yaml", "json"]).default("yaml"))
    .option("-n, --namespace <ns>", "namespace of objects that have none", "default")
    .option("--wasm-url <url>", "the filter module, e.g. oci://registry/meltemi@sha256:<digest>")
    .option("--wasm-sha256 <hex>", "the module's OCI manifest digest (defaults to the url's @sha256:)")
    .option("--image-pull-secret <name>", "pull secret for the module (in each service namespace)")
    .option("--traffic-extension", "emit TrafficExtension (Istio 1.30+) instead of WasmPlugin", false)
    .option("--root-namespace <ns>", "Istio's config root namespace", DEFAULT_OPTIONS.rootNamespace)
    .option("--cluster-domain <domain>", "the cluster's DNS domain", DEFAULT_OPTIONS.clusterDomain)
    .option("--codecs <list>", "codecs compiled into the filter", DEFAULT_OPTIONS.codecs.join(","))
    .addOption(new Option("--fail-strategy <s>", "plugin fail strategy where no authorization applies").choices(["FAIL_OPEN", "FAIL_CLOSE", "FAIL_RELOAD"]).default(DEFAULT_OPTIONS.failStrategy))
    .option("--early-data-bytes <n>", "tcp_proxy early-data buffer in perConnection mode", positiveInt, DEFAULT_OPTIONS.earlyDataBytes)
    .option("--status", "also print each input's Ready condition on stderr", false)
    .action(async (flags: RenderFlags) => {
      const { options, warnings } = translateOptions(flags);
      const result = await render({ files: flags.filename, output: flags.output, namespace: flags.namespace, showStatus: flags.status, options, readStdin });
      process.stdout.write(result.stdout);
      process.stderr.write(warnings.map((w) => `${w}\n`).join("") + result.stderr);
      process.exitCode = result.exitCode;
    });
  return cmd;
}

program()
  .parseAsync(process.argv)
  .catch((err: unknown) => {
    process.stderr.write(`error: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  });
