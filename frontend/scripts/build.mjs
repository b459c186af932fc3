// Builds the one-file ES module TensorBoard loads: ../tb_saliency/static/index.js.
// The output must be byte-identical on every machine (CI rebuilds it and diffs the committed copy), so
// no timestamps, no absolute paths and no source maps go into it.
import { build } from "esbuild";
import { checkFresh } from "./gen_api_types.mjs";
import { fileURLToPath } from "node:url";
import path from "node:path";

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, "..");

// The route types must be what tb_saliency/http_schema.json gives: a stale copy fails the build.
checkFresh();

await build({
  absWorkingDir: root,
  entryPoints: ["src/index.ts"],
  outfile: "../tb_saliency/static/index.js",
  bundle: true,
  format: "esm",
  target: ["es2020", "chrome90", "firefox90", "safari15"],
  minify: true,
  legalComments: "none",
  sourcemap: false,
  charset: "utf8",
  logLevel: "warning",
  banner: { js: "// tb_saliency dashboard. Built from frontend/ by `npm run build`; do not edit." },
});
