// Bundles every test/*.test.ts with esbuild and runs them with node's own test runner, so the tests
// need no dependency beyond the build's.
import { build } from "esbuild";
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const tests = fs.readdirSync(path.join(root, "test")).filter((f) => f.endsWith(".test.ts")).sort();
const out = fs.mkdtempSync(path.join(os.tmpdir(), "tb-saliency-tests-"));
try {
  await build({
    absWorkingDir: root,
    entryPoints: tests.map((f) => path.join("test", f)),
    outdir: out,
    bundle: true,
    platform: "node",
    format: "esm",
    outExtension: { ".js": ".mjs" },
    external: ["node:*"],
    logLevel: "warning",
  });
  const files = tests.map((f) => path.join(out, f.replace(/\.ts$/, ".mjs")));
  const result = spawnSync(process.execPath, ["--test", "--test-reporter=spec", ...files], { stdio: "inherit" });
  process.exitCode = result.status ?? 1;
} finally {
  fs.rmSync(out, { recursive: true, force: true });
}
