/** One row of a schema table: a property, flattened with a dotted path. */
export interface SchemaRow {
  readonly path: string;
  readonly type: string;
  readonly required: boolean;
  readonly defaultValue?: string;
  readonly description?: string;
}

type Node = {
  type?: string | string[];
  properties?: Record<string, Node>;
  required?: string[];
  items?: Node;
  enum?: unknown[];
  default?: unknown;
  description?: string;
  format?: string;
};

/** The properties of an object schema as rows, nested objects and arrays of objects flattened. Pure. */
export function schemaRows(schema: unknown, prefix = '', depth = 0): SchemaRow[] {
  const node = (schema ?? {}) as Node;
  const rows: SchemaRow[] = [];
  const required = new Set(node.required ?? []);
  for (const [name, child] of Object.entries(node.properties ?? {})) {
    const path = prefix === '' ? name : `${prefix}.${name}`;
    rows.push({
      path,
      type: typeText(child),
      required: required.has(name),
      ...(child.default === undefined ? {} : { defaultValue: JSON.stringify(child.default) }),
      ...(child.description === undefined ? {} : { description: child.description }),
    });
    if (depth < 4) {
      if (child.properties) rows.push(...schemaRows(child, path, depth + 1));
      else if (child.items?.properties) rows.push(...schemaRows(child.items, `${path}[]`, depth + 1));
    }
  }
  return rows;
}

function typeText(node: Node): string {
  if (node.enum) return node.enum.map((v) => JSON.stringify(v)).join(' | ');
  const type = Array.isArray(node.type) ? node.type.join(' | ') : (node.type ?? 'any');
  if (type === 'array' && node.items) return `${typeText(node.items)}[]`;
  return node.format ? `${type} (${node.format})` : type;
}

/** A JSON Schema as a readable table. */
export function SchemaTable({ schema, empty }: { readonly schema: unknown; readonly empty: string }) {
  const rows = schemaRows(schema);
  if (rows.length === 0) return <p className="muted">{empty}</p>;
  return (
    <table className="table compact schema-table">
      <thead>
        <tr>
          <th>Field</th>
          <th>Type</th>
          <th>Default</th>
          <th>Description</th>
        </tr>
      </thead>
      <tbody>
        {rows.map((r) => (
          <tr key={r.path}>
            <td>
              <code>{r.path}</code>
              {r.required && (
                <span className="required" title="required">
                  *
                </span>
              )}
            </td>
            <td>
              <code className="muted">{r.type}</code>
            </td>
            <td>{r.defaultValue !== undefined && <code>{r.defaultValue}</code>}</td>
            <td>{r.description}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
