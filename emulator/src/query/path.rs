//! Field paths: `code`, `project.Project.name`, `shots.Shot.sg_sequence.Sequence.code`.
//!
//! A path is `field (. Type . field)*`: every hop names a link field of the current
//! type and the type to follow it to; links to other types are skipped (so
//! `entity.Shot.code` only looks at Shot links of a polymorphic field). `id` (number)
//! and `type` (entity_type) exist on every type.

use std::borrow::Cow;

use serde_json::Value;

use crate::model::schema::FieldKind;
use crate::model::store::Table;
use crate::model::{Record, Store};

/// One hop of a path: the link field and the table it leads to.
#[derive(Debug, Clone)]
pub struct Hop<'s> {
    /// Link field on the current type.
    pub field: String,
    /// Canonical type the hop follows.
    pub target: String,
    /// That type's table.
    pub table: &'s Table,
}

/// A resolved, validated field path.
#[derive(Debug, Clone)]
pub struct FieldPath<'s> {
    /// The path as written.
    pub raw: String,
    /// Hops through links (empty for a plain field).
    pub hops: Vec<Hop<'s>>,
    /// The final field.
    pub field: String,
    /// Canonical type that holds the final field.
    pub owner: String,
    /// Kind of the final field.
    pub kind: FieldKind,
}

/// Why a path does not resolve.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PathError {
    /// `owner.field` does not exist.
    UnknownField {
        /// Type that was searched.
        owner: String,
        /// Missing field.
        field: String,
    },
    /// A hop names a field that is not a link, or a type that does not exist.
    BadHop(String),
}

/// Kind of a field of a table, including the implicit `id` and `type`.
pub fn field_kind(table: &Table, field: &str) -> Option<FieldKind> {
    match field {
        "id" => Some(FieldKind::Number),
        "type" => Some(FieldKind::EntityType),
        f => table.fields.get(f).copied(),
    }
}

/// Whether values of this kind are lists (each element tested on its own).
pub fn is_multi(kind: FieldKind) -> bool {
    matches!(
        kind,
        FieldKind::MultiEntity | FieldKind::Addressing | FieldKind::TagList
    )
}

impl<'s> FieldPath<'s> {
    /// Resolves `raw` starting at the canonical type `base`.
    pub fn resolve(store: &'s Store, base: &str, raw: &str) -> Result<Self, PathError> {
        let parts: Vec<&str> = raw.split('.').collect();
        let mut owner: String = base.to_string();
        let mut table = store
            .table(base)
            .map_err(|_| PathError::BadHop(base.into()))?;
        let mut hops = Vec::new();
        let mut i = 0;
        while i + 2 < parts.len() {
            let (field, ty) = (parts[i], parts[i + 1]);
            match field_kind(table, field) {
                Some(k) if k.is_link() => {}
                Some(_) => {
                    return Err(PathError::BadHop(format!(
                        "{owner}.{field} is not an entity field and can't be followed"
                    )))
                }
                None => {
                    return Err(PathError::UnknownField {
                        owner: owner.clone(),
                        field: field.into(),
                    })
                }
            }
            let canonical = store
                .resolve_type(ty)
                .map_err(|_| PathError::BadHop(format!("{ty} is not a valid entity type")))?;
            let t = store
                .table(&canonical)
                .map_err(|_| PathError::BadHop(format!("{ty} is not a valid entity type")))?;
            hops.push(Hop {
                field: field.to_string(),
                target: canonical.clone(),
                table: t,
            });
            owner = canonical;
            table = t;
            i += 2;
        }
        if parts.len() % 2 == 0 {
            return Err(PathError::BadHop(format!(
                "{raw} is not a valid field path (field.Type.field…)"
            )));
        }
        let field = parts[parts.len() - 1];
        let kind = field_kind(table, field).ok_or_else(|| PathError::UnknownField {
            owner: owner.clone(),
            field: field.into(),
        })?;
        Ok(FieldPath {
            raw: raw.to_string(),
            hops,
            field: field.to_string(),
            owner,
            kind,
        })
    }

    /// The final field's value on a record of the owner type (`Null` when unset).
    pub fn own_value<'r>(&self, owner: &str, record: &'r Record) -> Cow<'r, Value> {
        match self.field.as_str() {
            "id" => Cow::Owned(Value::from(record.id)),
            "type" => Cow::Owned(Value::String(owner.to_string())),
            f => record
                .fields
                .get(f)
                .map_or(Cow::Owned(Value::Null), Cow::Borrowed),
        }
    }

    /// The records of the owner type reached from `record` through the hops (just
    /// `record` for a plain field). Retired and missing targets are skipped.
    pub fn reach<'r>(&self, record: &'r Record) -> Vec<&'r Record>
    where
        's: 'r,
    {
        let mut current: Vec<&'r Record> = vec![record];
        for hop in &self.hops {
            let mut next = Vec::new();
            for r in &current {
                let links: &[Value] = match r.fields.get(&hop.field) {
                    Some(Value::Array(items)) => items,
                    Some(v @ Value::Object(_)) => std::slice::from_ref(v),
                    _ => &[],
                };
                for l in links {
                    let Some(o) = l.as_object() else { continue };
                    if o.get("type").and_then(Value::as_str) != Some(hop.target.as_str()) {
                        continue;
                    }
                    let Some(id) = o.get("id").and_then(Value::as_i64) else {
                        continue;
                    };
                    if let Some(t) = hop.table.records.get(&id).filter(|t| !t.retired) {
                        next.push(t);
                    }
                }
            }
            current = next;
        }
        current
    }

    /// Calls `f` with every value the path yields for `record`: the field's value, or
    /// each element of a list field; for a broken link chain, one `Null` for a scalar
    /// field and nothing for a list field. Stops early when `f` returns true; returns
    /// whether it did.
    pub fn any_value(&self, record: &Record, f: &mut dyn FnMut(&Value) -> bool) -> bool {
        let multi = is_multi(self.kind);
        let each = |r: &Record, f: &mut dyn FnMut(&Value) -> bool| -> bool {
            let v = self.own_value(&self.owner, r);
            match (multi, v.as_ref()) {
                (true, Value::Array(items)) => items.iter().any(&mut *f),
                (true, Value::Null) => false,
                (_, v) => f(v),
            }
        };
        if self.hops.is_empty() {
            return each(record, f);
        }
        let reached = self.reach(record);
        if reached.is_empty() {
            return !multi && f(&Value::Null);
        }
        reached.into_iter().any(|r| each(r, f))
    }
}
