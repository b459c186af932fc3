// Writes src/api_types.ts from ../tb_saliency/http_schema.json (the JSON Schema of every route that
// the backend's tests validate responses against). `--check` writes nothing and fails when the
// committed file is not what the schema gives: the build and CI run it.
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { generate } from "./schema_to_ts.mjs";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
export const SCHEMA = path.resolve(root, "../tb_saliency/http_schema.json");
export const OUTPUT = path.resolve(root, "src/api_types.ts");

export function expected() {
  return generate(JSON.parse(fs.readFileSync(SCHEMA, "utf8")));
}

export function checkFresh() {
  const want = expected();
  const have = fs.existsSync(OUTPUT) ? fs.readFileSync(OUTPUT, "utf8") : "";
  if (have !== want) {
    throw new Error(`${path.relative(process.cwd(), OUTPUT)} is stale: it differs from what ${path.relative(process.cwd(), SCHEMA)} gives. Run \`npm run gen-types\` in frontend/ and commit it.`);
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  if (process.argv.includes("--check")) {
    try {
      checkFresh();
    } catch (e) {
      console.error(e.message);
      process.exit(1);
    }
  } else {
    fs.writeFileSync(OUTPUT, expected());
    console.log(`wrote ${path.relative(process.cwd(), OUTPUT)}`);
  }
}
