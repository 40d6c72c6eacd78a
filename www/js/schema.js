// The site's schema, read once per connection and cached: entity types and their fields.

let entitiesPromise = null;
const fieldPromises = new Map();
let client = null;

/** Forgets everything (new connection). */
export function reset(sg) {
  client = sg;
  entitiesPromise = null;
  fieldPromises.clear();
}

/** `[{ type, label }]` sorted by type. */
export function entityTypes() {
  if (!client) return Promise.resolve([]);
  entitiesPromise ??= client.schema.entities().then(
    (all) => Object.entries(all).map(([type, s]) => ({ type, label: s?.name?.value ?? type })).sort((a, b) => a.type.localeCompare(b.type)),
    (err) => { entitiesPromise = null; throw err; },
  );
  return entitiesPromise;
}

/** `Map(name → { name, label, dataType, validValues, validTypes, editable, mandatory, schema })`. */
export function fieldsOf(type) {
  if (!client || !type) return Promise.resolve(new Map());
  if (!fieldPromises.has(type)) {
    const p = client.schema.fields(type).then(
      (all) => new Map(Object.entries(all).sort(([a], [b]) => a.localeCompare(b)).map(([name, s]) => [name, describe(name, s)])),
      (err) => { fieldPromises.delete(type); throw err; },
    );
    fieldPromises.set(type, p);
  }
  return fieldPromises.get(type);
}

/** Forgets one type's fields (after a field was created or deleted). */
export function forgetFields(type) {
  fieldPromises.delete(type);
}

function describe(name, s) {
  const props = s?.properties ?? {};
  return {
    name,
    label: s?.name?.value ?? name,
    dataType: s?.data_type?.value ?? "text",
    validValues: props.valid_values?.value ?? [],
    displayValues: props.display_values?.value ?? {},
    validTypes: props.valid_types?.value ?? [],
    editable: s?.editable?.value !== false,
    mandatory: s?.mandatory?.value === true,
    schema: s,
  };
}

/**
 * The field a (possibly dotted) path ends on: "project.Project.name" is Project's
 * "name". Resolves to null when unknown.
 */
export async function resolveField(type, path) {
  const parts = String(path ?? "").split(".");
  let t = type;
  let name = parts[0];
  if (parts.length >= 3 && parts.length % 2 === 1) {
    t = parts[parts.length - 2];
    name = parts[parts.length - 1];
  }
  try {
    return (await fieldsOf(t)).get(name) ?? null;
  } catch {
    return null;
  }
}
