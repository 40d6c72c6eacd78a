// Unit tests of the explorer's pure logic (www/js/model.js): operators per data type,
// typed values, the filter tree, redaction and the curl / JS snippets.
import test from "node:test";
import assert from "node:assert/strict";
import {
  operatorsFor, valueShape, parseValue, parseLink, conditionValue, toFilters, InputError,
  redact, redactForm, REDACTED, toCurl, toJs, chartBars, columnsOf, isLink, conditionFrom, formatValue,
} from "../../www/js/model.js";

test("operators follow the field's data type", () => {
  assert.deepEqual(operatorsFor("checkbox"), ["is", "is_not"]);
  assert.ok(operatorsFor("date").includes("in_last") && !operatorsFor("text").includes("in_last"));
  assert.ok(operatorsFor("entity").includes("type_is") && !operatorsFor("number").includes("type_is"));
  assert.ok(operatorsFor("text").includes("starts_with") && !operatorsFor("status_list").includes("starts_with"));
  assert.ok(operatorsFor("number").includes("between") && !operatorsFor("checkbox").includes("between"));
});

test("values are typed per field and refused with a named place", () => {
  assert.equal(parseValue("42", "number"), 42);
  assert.throws(() => parseValue("4.5", "number", "filters.conditions[0]"), (e) => e instanceof InputError && e.where === "filters.conditions[0]");
  assert.equal(parseValue("4.5", "float"), 4.5);
  assert.equal(parseValue("false", "checkbox"), false);
  assert.throws(() => parseValue("yes", "checkbox"), InputError);
  assert.equal(parseValue("2024-01-15", "date"), "2024-01-15");
  assert.throws(() => parseValue("15/01/2024", "date"), InputError);
  assert.match(parseValue("2024-01-15T09:00:00Z", "date_time"), /^2024-01-15T09:00:00Z$/);
  assert.deepEqual(parseValue("Project:1", "entity"), { type: "Project", id: 1 });
  assert.equal(parseValue("", "entity"), null);
  assert.equal(parseValue("", "text"), "");
  assert.deepEqual(parseLink("Shot #12"), { type: "Shot", id: 12 });
  assert.throws(() => parseLink("12"), InputError);
});

test("relations shape their values", () => {
  assert.equal(valueShape("between", "number"), "pair");
  assert.deepEqual(conditionValue("between", "number", { a: "1", b: "5" }), [1, 5]);
  assert.deepEqual(conditionValue("in_last", "date", { a: "3", unit: "WEEK" }), [3, "WEEK"]);
  assert.deepEqual(conditionValue("in", "status_list", { values: ["ip", "rev"] }), ["ip", "rev"]);
  assert.deepEqual(conditionValue("in", "entity", { a: "Asset:1, Asset:2" }), [{ type: "Asset", id: 1 }, { type: "Asset", id: 2 }]);
  assert.deepEqual(conditionValue("in", "number", { a: "1,2, 3" }), [1, 2, 3]);
  assert.equal(conditionValue("type_is", "entity", { a: "Shot" }), "Shot");
  assert.deepEqual(conditionValue("is", "multi_entity", { a: "Asset:3" }), { type: "Asset", id: 3 });
  assert.throws(() => conditionValue("in", "number", { a: "" }), InputError);
});

const cond = (field, relation, dataType, raw) => ({ kind: "cond", field, relation, dataType, raw });

test("a flat AND of conditions is a list; nesting gives logical_operator groups", () => {
  assert.equal(toFilters({ kind: "group", op: "and", children: [] }), null);
  assert.deepEqual(toFilters({ kind: "group", op: "and", children: [cond("code", "starts_with", "text", { a: "SH" })] }), [["code", "starts_with", "SH"]]);
  const nested = toFilters({ kind: "group", op: "and", children: [
    cond("project", "is", "entity", { a: "Project:1" }),
    { kind: "group", op: "or", children: [cond("sg_status_list", "is", "status_list", { a: "ip" }), cond("code", "ends_with", "text", { a: "0" })] },
  ] });
  assert.deepEqual(nested, { logical_operator: "and", conditions: [
    ["project", "is", { type: "Project", id: 1 }],
    { logical_operator: "or", conditions: [["sg_status_list", "is", "ip"], ["code", "ends_with", "0"]] },
  ] });
  assert.deepEqual(toFilters({ kind: "group", op: "or", children: [cond("id", "greater_than", "number", { a: "3" })] }),
    { logical_operator: "or", conditions: [["id", "greater_than", 3]] });
});

test("filter mistakes name the condition", () => {
  assert.throws(() => toFilters({ kind: "group", op: "and", children: [cond("", "is", "text", { a: "x" })] }),
    (e) => e instanceof InputError && e.where === "filters.conditions[0]");
  assert.throws(() => toFilters({ kind: "group", op: "and", children: [cond("code", "is", "text", { a: "x" }), { kind: "group", op: "or", children: [cond("id", "is", "number", { a: "x" })] }] }),
    (e) => e instanceof InputError && e.where.startsWith("filters.conditions[1].conditions[0]"));
  assert.throws(() => toFilters({ kind: "group", op: "and", children: [{ kind: "group", op: "or", children: [] }] }), /empty group/);
});

test("redaction removes secrets at any depth and in token forms", () => {
  const r = redact([{ grant: "password", login: "admin", password: "hunter2", nested: { clientSecret: "k", token: "t", code: "SH010" } }]);
  assert.equal(JSON.stringify(r).includes("hunter2"), false);
  assert.equal(r[0].login, "admin");
  assert.equal(r[0].nested.clientSecret, REDACTED);
  assert.equal(r[0].nested.token, REDACTED);
  assert.equal(r[0].nested.code, "SH010");
  const form = redactForm("grant_type=client_credentials&client_id=s&client_secret=abc123");
  assert.equal(form.includes("abc123"), false);
  assert.ok(form.includes("client_id=s"));
});

test("copy as curl uses $SG_TOKEN and never the token; copy as JS reads secrets from the environment", () => {
  const curl = toCurl([{ method: "POST", url: "http://127.0.0.1:8000/api/v1/entity/shots/_search?page%5Bsize%5D=25",
    headers: { "content-type": "application/vnd+shotgun.api3_hash+json", authorization: "Bearer SECRET" }, auth: true, body: '{"filters":{"logical_operator":"or","conditions":[]}}' }]);
  assert.ok(curl.includes("curl -X POST 'http://127.0.0.1:8000/api/v1/entity/shots/_search?page%5Bsize%5D=25'"));
  assert.ok(curl.includes('Authorization: Bearer $SG_TOKEN'));
  assert.ok(curl.includes("content-type: application/vnd+shotgun.api3_hash+json"));
  assert.equal(curl.includes("SECRET"), false);
  assert.match(toCurl([]), /refused before sending/);
  const quoted = toCurl([{ method: "POST", url: "http://h/api/v1/entity/shots", headers: {}, auth: true, body: `{"code":"it's"}` }]);
  assert.ok(quoted.includes(`'{"code":"it'\\''s"}'`));
  const js = toJs({ site: "http://h", grant: "client_credentials", clientId: "demo_script" }, "find", [
    "Shot", [["code", "is", "x"]], { fields: ["code"] }]);
  assert.ok(js.includes('clientSecret: process.env.SG_KEY'));
  assert.ok(js.includes('await sg.find("Shot", [["code", "is", "x"]], { fields: ["code"] })'));
  const hook = toJs({ site: "http://h", grant: "password", login: "admin" }, "webhooks.create", [{ name: "h", token: "shh" }]);
  assert.equal(hook.includes("shh"), false);
});

test("chart bars, table columns, links", () => {
  const bars = chartBars({ summaries: { id: 5 }, groups: [{ group_name: "ip", group_value: "ip", summaries: { id: 3 } }, { group_value: { type: "Project", id: 1, name: "Demo" }, summaries: { id: "2" } }] }, "id");
  assert.deepEqual(bars, [{ label: "ip", value: 3 }, { label: "Demo", value: 2 }]);
  assert.deepEqual(chartBars({ summaries: { id: 1 } }, "id"), []);
  assert.deepEqual(columnsOf([{ type: "Shot", id: 1, code: "a" }, { type: "Shot", id: 2, project: null }]), ["id", "code", "project"]);
  assert.ok(isLink({ type: "Shot", id: 1 }) && !isLink({ type: "Shot", id: "1" }) && !isLink(null));
});

test("conditions shown in the builder again give the same filters (history → Edit)", () => {
  const cases = [
    [["project", "is", { type: "Project", id: 1 }], "entity"],
    [["id", "between", [3, 9]], "number"],
    [["created_at", "in_last", [2, "WEEK"]], "date_time"],
    [["due_date", "in_calendar_month", -1], "date"],
    [["sg_status_list", "in", ["ip", "rev"]], "status_list"],
    [["assets", "in", [{ type: "Asset", id: 1 }, { type: "Asset", id: 2 }]], "multi_entity"],
    [["entity", "type_is", "Shot"], "entity"],
    [["code", "starts_with", "SQ0"], "text"],
    [["sg_cut_in", "greater_than", 1001], "number"],
  ];
  for (const [c, dataType] of cases) {
    const { field, relation, raw } = conditionFrom(c);
    // A status multi-select hands back `values`; other inputs hand back their text.
    const input = dataType === "status_list" ? raw : { ...raw, values: undefined };
    const back = toFilters({ kind: "group", op: "and", children: [{ kind: "cond", field, relation, dataType, raw: input }] });
    assert.deepEqual(back, [c], JSON.stringify(c));
  }
  const utc = "2024-01-15T09:00:00Z";
  assert.equal(parseValue(formatValue(utc), "date_time"), utc, "date-times survive the local round trip");
  assert.equal(formatValue({ multi_entity_update_mode: "add", value: [{ type: "Asset", id: 4 }] }), "Asset:4");
  assert.equal(formatValue(null), "");
});
