//! Reading many records: the list GET (`filter[field]=…`) for simple filters, `_search`
//! for everything else, page by page. Builds requests and decodes pages; the engine
//! decides when to stop.

use crate::protocol::json::Value;

use super::error::Error;
use super::filters::{validate_field_path, Filters};
use super::http::{percent_encode_into, HttpRequest, HttpResponse, Method};
use super::naming::{url_segment, validate_entity_type};
use super::record::{flatten_resource, parse_json, take_data};
use super::site::Site;

/// Largest page the API serves.
pub const MAX_PAGE_SIZE: u32 = 5000;
/// Page size when the caller gives none (the API's default).
pub const DEFAULT_PAGE_SIZE: u32 = 500;

/// Which endpoint a read uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum ReadMethod {
    /// The list GET when the filters allow it, else `_search`.
    #[default]
    Auto,
    /// Always the list GET (simple filters only).
    Get,
    /// Always `_search`.
    Search,
}

/// Which records by retirement state.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum ReturnOnly {
    /// Live records (the default).
    #[default]
    Active,
    /// Retired (deleted) records only.
    Retired,
}

/// A validated read of many records.
#[derive(Clone, Debug, PartialEq)]
pub struct ReadQuery {
    /// TitleCase entity type.
    pub entity_type: String,
    /// Validated filters.
    pub filters: Filters,
    /// Fields to return (empty: the site's defaults).
    pub fields: Vec<String>,
    /// Sort keys, `-` prefix for descending.
    pub sort: Vec<String>,
    /// Records per page, 1..=5000.
    pub page_size: u32,
    /// Active or retired.
    pub return_only: ReturnOnly,
    /// Include records of archived projects.
    pub include_archived_projects: bool,
    /// Endpoint choice.
    pub method: ReadMethod,
}

impl ReadQuery {
    /// Validates everything but the filters (already validated).
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        entity_type: &str,
        filters: Filters,
        fields: Vec<String>,
        sort: Vec<String>,
        page_size: Option<u32>,
        return_only: ReturnOnly,
        include_archived_projects: bool,
        method: ReadMethod,
    ) -> Result<ReadQuery, Error> {
        validate_entity_type(entity_type, "entityType")?;
        for (i, f) in fields.iter().enumerate() {
            if f != "*" {
                validate_field_path(f, &indexed("options.fields", i))?;
            }
        }
        for (i, s) in sort.iter().enumerate() {
            validate_field_path(
                s.strip_prefix('-').unwrap_or(s),
                &indexed("options.sort", i),
            )?;
        }
        let page_size = page_size.unwrap_or(DEFAULT_PAGE_SIZE);
        if page_size == 0 || page_size > MAX_PAGE_SIZE {
            return Err(Error::invalid_input(
                "options.pageSize",
                "must be an integer from 1 to 5000",
            ));
        }
        if method == ReadMethod::Get && filters.simple_query().is_none() {
            return Err(Error::invalid_input(
                "options.method",
                "\"get\" only takes AND-ed `is`/`in` conditions on plain fields; use \"search\" or \"auto\"",
            ));
        }
        Ok(ReadQuery {
            entity_type: entity_type.to_owned(),
            filters,
            fields,
            sort,
            page_size,
            return_only,
            include_archived_projects,
            method,
        })
    }

    /// The request for 1-based page `page`.
    pub fn page_request(&self, site: &Site, page: u32) -> HttpRequest {
        let simple = match self.method {
            ReadMethod::Search => None,
            ReadMethod::Get | ReadMethod::Auto => self.filters.simple_query(),
        };
        let mut path = String::from("/api/v1/entity/");
        path.push_str(&url_segment(&self.entity_type));
        if simple.is_none() {
            path.push_str("/_search");
        }
        let mut q = Query::new(path);
        if let Some(pairs) = &simple {
            for (field, value) in pairs {
                let mut name = String::from("filter[");
                name.push_str(field);
                name.push(']');
                q.pair(&name, value);
            }
        }
        if !self.fields.is_empty() {
            q.pair("fields", &crate::protocol::join(&self.fields, ","));
        }
        if !self.sort.is_empty() {
            q.pair("sort", &crate::protocol::join(&self.sort, ","));
        }
        q.pair("page[number]", &crate::protocol::dec(page));
        q.pair("page[size]", &crate::protocol::dec(self.page_size));
        if self.return_only == ReturnOnly::Retired {
            q.pair("options[return_only]", "retired");
        }
        if self.include_archived_projects {
            q.pair("options[include_archived_projects]", "true");
        }
        let url = site.url(&q.finish());
        match simple {
            Some(_) => HttpRequest::new(Method::Get, url).header("Accept", "application/json"),
            None => {
                let body = crate::protocol::json::json!({ "filters": self.filters.value });
                HttpRequest::new(Method::Post, url)
                    .header("Accept", "application/json")
                    .header("Content-Type", self.filters.form.content_type())
                    .body(super::record::json_text(&body).into_bytes())
            }
        }
    }
}

fn indexed(base: &str, i: usize) -> String {
    let mut p = String::from(base);
    p.push('[');
    p.push_str(&crate::protocol::dec(i));
    p.push(']');
    p
}

/// A path with a query string being built.
struct Query {
    url: String,
    first: bool,
}

impl Query {
    fn new(path: String) -> Self {
        Query {
            url: path,
            first: true,
        }
    }
    fn pair(&mut self, name: &str, value: &str) {
        self.url.push(if self.first { '?' } else { '&' });
        self.first = false;
        percent_encode_into(&mut self.url, name);
        self.url.push('=');
        // Keep commas readable in field and sort lists; everything else is encoded.
        for (i, part) in value.split(',').enumerate() {
            if i > 0 {
                self.url.push(',');
            }
            percent_encode_into(&mut self.url, part);
        }
    }
    fn finish(self) -> String {
        self.url
    }
}

/// Decodes one page: flat records, in order. Resources without `type`/`id` are a
/// decode error (never silently dropped).
pub fn decode_page(resp: &HttpResponse) -> Result<Vec<Value>, Error> {
    let data = take_data(parse_json(resp)?, resp)?;
    let Value::Array(items) = data else {
        return Err(Error::decode_from(
            "a list response's `data` is not an array",
            resp,
        ));
    };
    items
        .into_iter()
        .map(|item| {
            flatten_resource(item)
                .ok_or_else(|| Error::decode_from("a record has no `type` and `id`", resp))
        })
        .collect()
}

/// Walks pages: which page to ask for next, and what to keep of each answer. Stops on a
/// short or empty page (a `links.next` is seen even on short last pages), at the limit,
/// and refuses a page that repeats the previous one (a server ignoring `page[number]`).
#[derive(Clone, Debug)]
pub struct Pager {
    page_size: u32,
    next_page: u32,
    remaining: Option<u64>,
    done: bool,
    previous_ids: Vec<i64>,
}

impl Pager {
    /// A pager over pages of `page_size`, stopping after `limit` records if given.
    pub fn new(page_size: u32, limit: Option<u64>) -> Pager {
        Pager {
            page_size,
            next_page: 1,
            remaining: limit,
            done: limit == Some(0),
            previous_ids: Vec::new(),
        }
    }

    /// The page to fetch next, or `None` when finished.
    pub fn next_page(&self) -> Option<u32> {
        (!self.done).then_some(self.next_page)
    }

    /// The last page a limit lets the read reach, `None` without a limit. Pages past
    /// it are never requested (a prefetch window stops there).
    pub fn last_page(&self) -> Option<u32> {
        let rem = self.remaining?;
        let pages = rem.div_ceil(u64::from(self.page_size.max(1))).max(1);
        Some(
            u32::try_from(pages - 1)
                .ok()
                .and_then(|extra| self.next_page.checked_add(extra))
                .unwrap_or(u32::MAX),
        )
    }

    /// Whether every page has been consumed.
    pub fn is_done(&self) -> bool {
        self.done
    }

    /// Takes the records of the page returned by [`Pager::next_page`]; returns those to
    /// hand to the caller.
    pub fn accept(&mut self, mut records: Vec<Value>) -> Result<Vec<Value>, Error> {
        let ids: Vec<i64> = records
            .iter()
            .filter_map(|r| r.get("id").and_then(Value::as_i64))
            .collect();
        let keep = self.accept_ids(&ids, records.len())?;
        records.truncate(keep);
        Ok(records)
    }

    /// Like [`Pager::accept`] for a page known by its record ids (`len` records);
    /// returns how many of them to keep.
    pub fn accept_ids(&mut self, ids: &[i64], len: usize) -> Result<usize, Error> {
        if !ids.is_empty() && ids == self.previous_ids.as_slice() {
            self.done = true;
            let mut e = Error::decode(
                "the server returned the same page twice; stopping to avoid an endless loop",
                200,
                None,
            );
            e.source = Some(Value::String(format_page(self.next_page)));
            return Err(e);
        }
        let short = len < self.page_size as usize;
        let mut keep = len;
        if let Some(rem) = self.remaining {
            let allowed = usize::try_from(rem).unwrap_or(usize::MAX);
            if keep >= allowed {
                keep = allowed;
                self.done = true;
            }
            self.remaining = Some(rem.saturating_sub(keep as u64));
        }
        if short || len == 0 {
            self.done = true;
        }
        self.previous_ids = ids.to_vec();
        self.next_page = self.next_page.saturating_add(1);
        Ok(keep)
    }
}

fn format_page(n: u32) -> String {
    let mut s = String::from("page[number]=");
    s.push_str(&crate::protocol::dec(n));
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::filters::validate;
    use crate::protocol::json::sj as json;

    fn site() -> Site {
        Site::parse("http://127.0.0.1:1").unwrap()
    }

    fn query(filters: Value, method: ReadMethod) -> Result<ReadQuery, Error> {
        ReadQuery::new(
            "CustomEntity01",
            validate(&filters)?,
            vec!["code".into(), "project.Project.name".into()],
            vec!["-created_at".into(), "id".into()],
            Some(50),
            ReturnOnly::Active,
            false,
            method,
        )
    }

    #[test]
    fn simple_filters_use_the_list_get() {
        let q = query(
            json!([["code", "is", "a b"], ["id", "in", [1, 2]]]),
            ReadMethod::Auto,
        )
        .unwrap();
        let r = q.page_request(&site(), 3);
        assert_eq!(r.method, Method::Get);
        assert_eq!(
            r.url,
            "http://127.0.0.1:1/api/v1/entity/custom_entity01s?filter%5Bcode%5D=a%20b&filter%5Bid%5D=1,2&fields=code,project.Project.name&sort=-created_at,id&page%5Bnumber%5D=3&page%5Bsize%5D=50"
        );
        assert!(r.body.is_none());
    }

    #[test]
    fn complex_filters_use_search_with_the_right_content_type() {
        let q = query(
            json!({"logical_operator": "or", "conditions": [["code", "contains", "x"]]}),
            ReadMethod::Auto,
        )
        .unwrap();
        let r = q.page_request(&site(), 1);
        assert_eq!(r.method, Method::Post);
        assert!(r
            .url
            .starts_with("http://127.0.0.1:1/api/v1/entity/custom_entity01s/_search?fields="));
        assert!(r.headers.contains(&(
            "Content-Type".into(),
            "application/vnd+shotgun.api3_hash+json".into()
        )));
        let body: Value = serde_json::from_slice(r.body.as_deref().unwrap()).unwrap();
        assert_eq!(
            body,
            json!({"filters": {"logical_operator": "or", "conditions": [["code", "contains", "x"]]}})
        );
        // Forcing search on simple filters; array form content type.
        let q = query(json!([["code", "is", "a"]]), ReadMethod::Search).unwrap();
        let r = q.page_request(&site(), 1);
        assert!(r.headers.contains(&(
            "Content-Type".into(),
            "application/vnd+shotgun.api3_array+json".into()
        )));
        // Forcing get on complex filters is an input error.
        let e = query(json!([["code", "contains", "a"]]), ReadMethod::Get).unwrap_err();
        assert_eq!(e.source, Some(json!("options.method")));
    }

    #[test]
    fn options_in_the_query_string() {
        let q = ReadQuery::new(
            "Shot",
            validate(&Value::Null).unwrap(),
            vec![],
            vec![],
            None,
            ReturnOnly::Retired,
            true,
            ReadMethod::Auto,
        )
        .unwrap();
        let r = q.page_request(&site(), 1);
        assert_eq!(
            r.url,
            "http://127.0.0.1:1/api/v1/entity/shots?page%5Bnumber%5D=1&page%5Bsize%5D=500&options%5Breturn_only%5D=retired&options%5Binclude_archived_projects%5D=true"
        );
    }

    #[test]
    fn invalid_options_name_their_path() {
        let f = || validate(&Value::Null).unwrap();
        let cases = [
            (
                ReadQuery::new(
                    "shot",
                    f(),
                    vec![],
                    vec![],
                    None,
                    ReturnOnly::Active,
                    false,
                    ReadMethod::Auto,
                ),
                "entityType",
            ),
            (
                ReadQuery::new(
                    "Shot",
                    f(),
                    vec!["code".into(), "a,b".into()],
                    vec![],
                    None,
                    ReturnOnly::Active,
                    false,
                    ReadMethod::Auto,
                ),
                "options.fields[1]",
            ),
            (
                ReadQuery::new(
                    "Shot",
                    f(),
                    vec![],
                    vec!["--code".into()],
                    None,
                    ReturnOnly::Active,
                    false,
                    ReadMethod::Auto,
                ),
                "options.sort[0]",
            ),
            (
                ReadQuery::new(
                    "Shot",
                    f(),
                    vec![],
                    vec![],
                    Some(0),
                    ReturnOnly::Active,
                    false,
                    ReadMethod::Auto,
                ),
                "options.pageSize",
            ),
            (
                ReadQuery::new(
                    "Shot",
                    f(),
                    vec![],
                    vec![],
                    Some(5001),
                    ReturnOnly::Active,
                    false,
                    ReadMethod::Auto,
                ),
                "options.pageSize",
            ),
        ];
        for (r, path) in cases {
            assert_eq!(r.unwrap_err().source, Some(json!(path)));
        }
    }

    #[test]
    fn decodes_recorded_page() {
        let resp = HttpResponse {
            status: 200,
            headers: vec![],
            body: br#"{"data":[{"type":"Asset","attributes":{"code":"Young Bunny"},"relationships":{},"id":1243,"links":{"self":"/api/v1/entity/assets/1243"}},{"type":"Asset","attributes":{"code":"Whiskers"},"relationships":{},"id":1307,"links":{"self":"/api/v1/entity/assets/1307"}}],"links":{"self":"/api/v1/entity/assets?page%5Bnumber%5D=1","next":"/api/v1/entity/assets?page%5Bnumber%5D=2"}}"#.to_vec(),
        };
        let page = decode_page(&resp).unwrap();
        assert_eq!(
            page,
            vec![
                json!({"type":"Asset","id":1243,"code":"Young Bunny"}),
                json!({"type":"Asset","id":1307,"code":"Whiskers"})
            ]
        );
        for bad in [r#"{"data":{}}"#, r#"{"data":[{"id":1}]}"#, "[]", ""] {
            let resp = HttpResponse {
                status: 200,
                headers: vec![],
                body: bad.as_bytes().to_vec(),
            };
            assert!(decode_page(&resp).is_err(), "{bad}");
        }
    }

    fn recs(ids: std::ops::Range<i64>) -> Vec<Value> {
        ids.map(|id| json!({"type": "Shot", "id": id})).collect()
    }

    #[test]
    fn pager_stops_on_short_page_and_limit() {
        let mut p = Pager::new(3, None);
        assert_eq!(p.next_page(), Some(1));
        assert_eq!(p.accept(recs(1..4)).unwrap().len(), 3);
        assert_eq!(p.next_page(), Some(2));
        assert_eq!(p.accept(recs(4..6)).unwrap().len(), 2);
        assert_eq!(p.next_page(), None);

        let mut p = Pager::new(3, None);
        p.accept(recs(1..4)).unwrap();
        assert!(p.accept(vec![]).unwrap().is_empty());
        assert!(p.is_done());

        let mut p = Pager::new(3, Some(4));
        assert_eq!(p.accept(recs(1..4)).unwrap().len(), 3);
        assert_eq!(p.accept(recs(4..7)).unwrap().len(), 1);
        assert_eq!(p.next_page(), None);

        assert_eq!(Pager::new(3, Some(0)).next_page(), None);
    }

    #[test]
    fn the_limit_bounds_the_last_page() {
        assert_eq!(Pager::new(10, None).last_page(), None);
        let mut p = Pager::new(10, Some(25));
        assert_eq!(p.last_page(), Some(3), "25 records need 3 pages of 10");
        p.accept(recs(1..11)).unwrap();
        assert_eq!(
            p.last_page(),
            Some(3),
            "15 left from page 2 on: pages 2 and 3"
        );
        assert_eq!(Pager::new(10, Some(10)).last_page(), Some(1));
        assert_eq!(Pager::new(10, Some(11)).last_page(), Some(2));
        assert_eq!(Pager::new(1, Some(u64::MAX)).last_page(), Some(u32::MAX));
    }

    #[test]
    fn pager_refuses_a_repeated_page() {
        let mut p = Pager::new(2, None);
        p.accept(recs(1..3)).unwrap();
        let e = p.accept(recs(1..3)).unwrap_err();
        assert_eq!(e.kind, crate::protocol::ErrorKind::Decode);
        assert!(p.is_done());
    }
}
