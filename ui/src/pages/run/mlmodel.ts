// The few parts of an MLmodel file a model card shows, read by a small block-YAML reader (mappings of
// scalars by indentation; lists and flow collections are kept as their text). No YAML dependency.

export type YamlNode = string | { [key: string]: YamlNode };

function scalar(text: string): string {
  const t = text.trim();
  if (t.length >= 2 && t.startsWith("'") && t.endsWith("'")) return t.slice(1, -1).replace(/''/g, "'");
  if (t.length >= 2 && t.startsWith('"') && t.endsWith('"')) {
    try {
      return JSON.parse(t) as string;
    } catch {
      return t.slice(1, -1);
    }
  }
  return t;
}

/** Nested mappings of a block YAML document; lines it does not understand end up as text values. */
export function parseSimpleYaml(text: string): { [key: string]: YamlNode } {
  const root: { [key: string]: YamlNode } = {};
  const stack: { indent: number; node: { [key: string]: YamlNode } }[] = [{ indent: -1, node: root }];
  let lastKey: { parent: { [key: string]: YamlNode }; key: string; indent: number } | undefined;
  for (const raw of text.split(/\r?\n/)) {
    if (!raw.trim() || raw.trim().startsWith("#")) continue;
    const indent = raw.length - raw.trimStart().length;
    const line = raw.trim();
    const match = /^([^:#'"][^:]*?):(?:\s+(.*))?$/.exec(line);
    if (!match || line.startsWith("- ")) {
      // A list item or a continuation: append to the last key's text.
      if (lastKey && indent > lastKey.indent) {
        const prev = lastKey.parent[lastKey.key];
        const add = line;
        lastKey.parent[lastKey.key] = typeof prev === "string" && prev ? `${prev}\n${add}` : add;
      }
      continue;
    }
    while (stack.length > 1 && stack[stack.length - 1].indent >= indent) stack.pop();
    const parent = stack[stack.length - 1].node;
    const key = match[1].trim();
    const value = match[2];
    if (value === undefined || value === "") {
      const child: { [key: string]: YamlNode } = {};
      parent[key] = child;
      stack.push({ indent, node: child });
      lastKey = { parent, key, indent };
    } else {
      parent[key] = scalar(value);
      lastKey = { parent, key, indent };
    }
  }
  // A key that opened a block but only held list items became text: fix empty objects turned strings.
  return root;
}

export interface ModelCard {
  flavors: { name: string; details: [string, string][] }[];
  inputs?: string;
  outputs?: string;
  fields: [string, string][];
}

function text(node: YamlNode | undefined): string | undefined {
  if (node === undefined) return undefined;
  return typeof node === "string" ? node : JSON.stringify(node);
}

/** Flavors, signature and top-level facts of an MLmodel document. */
export function modelCard(yaml: string): ModelCard {
  const doc = parseSimpleYaml(yaml);
  const flavorsNode = doc.flavors;
  const flavors =
    flavorsNode && typeof flavorsNode === "object"
      ? Object.entries(flavorsNode).map(([name, node]) => ({
          name,
          details:
            typeof node === "object"
              ? Object.entries(node).map(([k, v]) => [k, text(v) ?? ""] as [string, string])
              : [],
        }))
      : [];
  const signature = doc.signature;
  const sig = signature && typeof signature === "object" ? signature : {};
  const fields = Object.entries(doc)
    .filter(([k, v]) => k !== "flavors" && k !== "signature" && typeof v === "string")
    .map(([k, v]) => [k, v as string] as [string, string]);
  return { flavors, inputs: text(sig.inputs), outputs: text(sig.outputs), fields };
}

/** A signature's column list as rows (name, type), when it is MLflow's JSON; else undefined. */
export function signatureColumns(spec: string | undefined): { name: string; type: string }[] | undefined {
  if (!spec) return undefined;
  try {
    const parsed = JSON.parse(spec) as { name?: string; type?: string; "tensor-spec"?: unknown }[];
    if (!Array.isArray(parsed)) return undefined;
    return parsed.map((col, i) => ({
      name: col.name ?? `#${i}`,
      type: col.type === "tensor" ? `tensor ${JSON.stringify(col["tensor-spec"] ?? {})}` : String(col.type ?? ""),
    }));
  } catch {
    return undefined;
  }
}
