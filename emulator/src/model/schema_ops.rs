//! Schema reads and field changes: the `{value, editable}` documents of the `/schema`
//! endpoints, and field create / update / delete (retire) / revive.

use serde_json::{json, Map, Value};

use super::defaults::{entity_display_name, FieldDef};
use super::schema::FieldKind;
use super::{Backend, ModelError, Store};

fn prop(value: Value, editable: bool) -> Value {
    json!({"value": value, "editable": editable})
}

/// `{name, visible}` of an entity type, as `GET /schema/{entity}` gives it.
pub fn entity_schema(entity_type: &str) -> Value {
    json!({
        "name": prop(json!(entity_display_name(entity_type)), false),
        "visible": prop(json!(true), false),
    })
}

/// The schema document of one field, as `GET /schema/{entity}/fields/{field}` gives it.
pub fn field_schema(entity_type: &str, def: &FieldDef) -> Value {
    let mut props = Map::new();
    props.insert(
        "default_value".into(),
        prop(def.default_value.clone(), false),
    );
    props.insert(
        "summary_default".into(),
        prop(json!(def.summary_default), def.editable),
    );
    match def.kind {
        FieldKind::Entity | FieldKind::MultiEntity | FieldKind::Addressing => {
            props.insert("valid_types".into(), prop(json!(def.valid_types), true));
        }
        FieldKind::List | FieldKind::StatusList => {
            props.insert("valid_values".into(), prop(json!(def.valid_values), true));
            let display: Map<String, Value> = if def.display_values.is_empty() {
                def.valid_values
                    .iter()
                    .map(|v| (v.clone(), json!(v)))
                    .collect()
            } else {
                def.display_values
                    .iter()
                    .map(|(k, v)| (k.clone(), json!(v)))
                    .collect()
            };
            props.insert("display_values".into(), prop(Value::Object(display), false));
            props.insert("hidden_values".into(), prop(json!([]), false));
        }
        FieldKind::Text => {
            props.insert("regex_validation".into(), prop(json!(""), def.editable));
            props.insert(
                "regex_validation_enabled".into(),
                prop(Value::Null, def.editable),
            );
        }
        FieldKind::Url => {
            props.insert("open_in_new_window".into(), prop(json!(true), true));
        }
        _ => {}
    }
    json!({
        "name": prop(json!(def.display_name), true),
        "description": prop(json!(def.description), true),
        "custom_metadata": prop(json!(def.custom_metadata), true),
        "entity_type": prop(json!(entity_type), false),
        "data_type": prop(json!(def.kind.as_str()), false),
        "editable": prop(json!(def.editable), false),
        "mandatory": prop(json!(def.mandatory), false),
        "unique": prop(json!(def.unique), false),
        "properties": Value::Object(props),
        "visible": prop(json!(def.visible), false),
        "ui_value_displayable": prop(json!(true), false),
    })
}

/// Data types a field can be created with (the reference's list).
pub const CREATABLE_KINDS: &[FieldKind] = &[
    FieldKind::Checkbox,
    FieldKind::Currency,
    FieldKind::Date,
    FieldKind::DateTime,
    FieldKind::Duration,
    FieldKind::Entity,
    FieldKind::Float,
    FieldKind::List,
    FieldKind::MultiEntity,
    FieldKind::Number,
    FieldKind::Percent,
    FieldKind::StatusList,
    FieldKind::Text,
    FieldKind::Timecode,
    FieldKind::Footage,
    FieldKind::Url,
    FieldKind::Uuid,
    FieldKind::Calculated,
];

fn bad(source: Value) -> ModelError {
    ModelError::Invalid {
        title: "Request Parameters invalid.".into(),
        origin: source,
    }
}

fn string_list(v: &Value) -> Option<Vec<String>> {
    match v {
        Value::Array(a) => a.iter().map(|x| x.as_str().map(str::to_string)).collect(),
        Value::String(s) => Some(
            s.split(',')
                .map(str::trim)
                .filter(|x| !x.is_empty())
                .map(str::to_string)
                .collect(),
        ),
        _ => None,
    }
}

/// Applies `[{property_name, value}]` to a field definition.
fn apply_properties(
    store: &Store,
    def: &mut FieldDef,
    properties: &[(String, Value)],
) -> Result<(), ModelError> {
    for (i, (name, value)) in properties.iter().enumerate() {
        let err = |msg: &str| bad(json!({"properties": {i.to_string(): [msg]}}));
        match name.as_str() {
            "name" => {
                def.display_name = value
                    .as_str()
                    .filter(|s| !s.trim().is_empty())
                    .ok_or_else(|| err("name must be a non-empty string"))?
                    .to_string()
            }
            "description" => {
                def.description = value
                    .as_str()
                    .ok_or_else(|| err("description must be a string"))?
                    .to_string()
            }
            "custom_metadata" => {
                def.custom_metadata = value
                    .as_str()
                    .ok_or_else(|| err("custom_metadata must be a string"))?
                    .to_string()
            }
            "summary_default" => {
                def.summary_default = value
                    .as_str()
                    .ok_or_else(|| err("summary_default must be a string"))?
                    .to_string()
            }
            "default_value" => def.default_value = value.clone(),
            "visible" => {
                def.visible = value
                    .as_bool()
                    .or_else(|| value.as_str().and_then(|s| s.parse().ok()))
                    .ok_or_else(|| err("visible must be a boolean"))?
            }
            "valid_values" => {
                if !matches!(def.kind, FieldKind::List | FieldKind::StatusList) {
                    return Err(err(
                        "valid_values only applies to list and status_list fields",
                    ));
                }
                def.valid_values = string_list(value)
                    .ok_or_else(|| err("valid_values must be a list of strings"))?;
            }
            "valid_types" => {
                if !def.kind.is_link() {
                    return Err(err(
                        "valid_types only applies to entity and multi_entity fields",
                    ));
                }
                let names = string_list(value)
                    .ok_or_else(|| err("valid_types must be a list of entity types"))?;
                let mut types = Vec::with_capacity(names.len());
                for n in names {
                    types.push(
                        store
                            .resolve_type(&n)
                            .map_err(|_| err(&format!("entity type '{n}' does not exist")))?,
                    );
                }
                def.valid_types = types;
            }
            other => return Err(err(&format!("unknown property '{other}'"))),
        }
    }
    Ok(())
}

/// `Cut Length` → `sg_cut_length`.
pub fn field_name_for(display: &str) -> String {
    let mut out = String::from("sg_");
    let mut last_us = true;
    for c in display.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
            last_us = false;
        } else if !last_us {
            out.push('_');
            last_us = true;
        }
    }
    while out.ends_with('_') {
        out.pop();
    }
    out
}

impl Backend {
    /// Creates a field: returns its name (`sg_` + the snake_case display name).
    pub fn create_field(
        &self,
        entity: &str,
        data_type: &str,
        properties: &[(String, Value)],
    ) -> Result<(String, String, Value), ModelError> {
        let mut store = self.store_mut();
        let t = store.resolve_type(entity)?;
        let kind = FieldKind::parse(data_type)
            .filter(|k| CREATABLE_KINDS.contains(k))
            .ok_or_else(|| {
                bad(json!({"data_type": [format!("data_type must be one of: {}",
                    CREATABLE_KINDS.iter().map(|k| k.as_str()).collect::<Vec<_>>().join(", "))]}))
            })?;
        let display = properties
            .iter()
            .find(|(n, _)| n == "name")
            .and_then(|(_, v)| v.as_str())
            .filter(|s| !s.trim().is_empty())
            .ok_or_else(|| bad(json!({"properties": ["a 'name' property is required"]})))?;
        let field = field_name_for(display);
        if field == "sg" {
            return Err(bad(
                json!({"properties": ["name must contain letters or digits"]}),
            ));
        }
        let table = store.table(&t)?;
        if table.fields.contains_key(&field) || table.retired_fields.contains_key(&field) {
            return Err(ModelError::Invalid {
                title: format!("API schema_field_create() {t}.{field} already exists."),
                origin: json!({"properties": {"name": [format!("field {field} already exists")]}}),
            });
        }
        let mut def = FieldDef::new(&field, kind);
        apply_properties(&store, &mut def, properties)?;
        let doc = field_schema(&t, &def);
        store.define_field_def(&t, &field, def)?;
        self.persist_schema(&mut store)?;
        Ok((t, field, doc))
    }

    /// Updates properties of a live field; returns its new schema document.
    pub fn update_field(
        &self,
        entity: &str,
        field: &str,
        properties: &[(String, Value)],
    ) -> Result<(String, Value), ModelError> {
        let mut store = self.store_mut();
        let t = store.resolve_type(entity)?;
        let mut def =
            store
                .table(&t)?
                .defs
                .get(field)
                .cloned()
                .ok_or_else(|| ModelError::NoSuchField {
                    entity_type: t.clone(),
                    field: field.to_string(),
                })?;
        apply_properties(&store, &mut def, properties)?;
        let doc = field_schema(&t, &def);
        store.define_field_def(&t, field, def)?;
        self.persist_schema(&mut store)?;
        Ok((t, doc))
    }

    /// Retires a custom (`sg_`) field; values are kept for a revive.
    pub fn delete_field(&self, entity: &str, field: &str) -> Result<(), ModelError> {
        let mut store = self.store_mut();
        let t = store.resolve_type(entity)?;
        let table = store.table_schema_mut(&t)?;
        if !table.fields.contains_key(field) {
            return Err(ModelError::NoSuchField {
                entity_type: t,
                field: field.to_string(),
            });
        }
        if !field.starts_with("sg_") {
            return Err(ModelError::Invalid {
                title: format!(
                    "API schema_field_delete() {t}.{field} is a system field and can't be deleted."
                ),
                origin: json!({"field_name": [format!("{field} can't be deleted")]}),
            });
        }
        table.fields.remove(field);
        if let Some(def) = table.defs.remove(field) {
            table.retired_fields.insert(field.to_string(), def);
        }
        self.persist_schema(&mut store)
    }

    /// Revives a retired field; returns whether it was retired, and its schema.
    pub fn revive_field(&self, entity: &str, field: &str) -> Result<(String, Value), ModelError> {
        let mut store = self.store_mut();
        let t = store.resolve_type(entity)?;
        let table = store.table_schema_mut(&t)?;
        if let Some(def) = table.retired_fields.remove(field) {
            table.fields.insert(field.to_string(), def.kind);
            let doc = field_schema(&t, &def);
            table.defs.insert(field.to_string(), def);
            self.persist_schema(&mut store)?;
            return Ok((t, doc));
        }
        match table.defs.get(field) {
            Some(def) => Ok((t.clone(), field_schema(&t, def))),
            None => Err(ModelError::NoSuchField {
                entity_type: t,
                field: field.to_string(),
            }),
        }
    }

    fn persist_schema(&self, store: &mut Store) -> Result<(), ModelError> {
        self.persist_locked(store)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn field_names_from_display_names() {
        assert_eq!(field_name_for("Cut Length"), "sg_cut_length");
        assert_eq!(field_name_for("  Über-Speed 2 "), "sg_ber_speed_2");
        assert_eq!(field_name_for("!!"), "sg");
    }
}
