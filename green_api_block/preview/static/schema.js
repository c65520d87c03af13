/* JSON Schema (draft 2020-12) validation for the block's input schemas, in the browser.
 *
 * Exactly the keywords our schemas use: type, required, properties, additionalProperties (false),
 * minLength, maxLength, pattern, minimum, maximum, minItems, maxItems, items, enum, const, allOf,
 * anyOf, oneOf, not, if/then/else, contains. Any other assertion keyword throws, so a schema that
 * outgrows this file fails its tests instead of being half-checked. Messages are the block's own
 * (green_api_block/validation.py): built from the rule, never from the value, and the schema's
 * x-errorMessage wins where it is set. tests/preview checks the verdicts against jsonschema.
 */
(function (root) {
  "use strict";

  const ANNOTATIONS = new Set([
    "$schema", "$id", "$comment", "title", "description", "default", "examples", "writeOnly",
    "readOnly", "deprecated", "format", "then", "else",
  ]);
  const TYPE_WORDS = {
    string: "a string", integer: "an integer", number: "a number", boolean: "true or false",
    array: "a list", object: "an object", null: "null",
  };
  const regexCache = new Map();

  function isObject(v) { return v !== null && typeof v === "object" && !Array.isArray(v); }
  function has(obj, key) { return Object.prototype.hasOwnProperty.call(obj, key); }
  function isNumber(v) { return typeof v === "number" && Number.isFinite(v); }

  function isType(value, type) {
    switch (type) {
      case "string": return typeof value === "string";
      case "integer": return isNumber(value) && Number.isInteger(value);
      case "number": return isNumber(value);
      case "boolean": return typeof value === "boolean";
      case "array": return Array.isArray(value);
      case "object": return isObject(value);
      case "null": return value === null;
      default: throw new Error("schema.js: unknown type " + type);
    }
  }

  function equal(a, b) {
    if (Array.isArray(a) || Array.isArray(b)) {
      return Array.isArray(a) && Array.isArray(b) && a.length === b.length && a.every((x, i) => equal(x, b[i]));
    }
    if (isObject(a) || isObject(b)) {
      if (!isObject(a) || !isObject(b)) return false;
      const ka = Object.keys(a), kb = Object.keys(b);
      return ka.length === kb.length && ka.every((k) => has(b, k) && equal(a[k], b[k]));
    }
    return a === b;
  }

  /* Length in code points, as JSON Schema (and Python's len) count it. */
  function length(s) { let n = 0; for (const _ of s) n += 1; return n; }

  function regex(pattern) {
    let re = regexCache.get(pattern);
    if (!re) { re = new RegExp(pattern, "u"); regexCache.set(pattern, re); }
    return re;
  }

  /* Raw errors: {path: [...], rule, value (the keyword's value), schema, instance, name?}. */
  function collect(schema, instance, path, out) {
    if (schema === true) return;
    if (schema === false) { out.push({ path, rule: "false", value: false, schema: {}, instance }); return; }
    const push = (rule, extra) => out.push(Object.assign({ path, rule, value: schema[rule], schema, instance }, extra));
    for (const [kw, value] of Object.entries(schema)) {
      if (kw.startsWith("x-") || ANNOTATIONS.has(kw)) continue;
      switch (kw) {
        case "type": {
          const types = Array.isArray(value) ? value : [value];
          if (!types.some((t) => isType(instance, t))) push(kw);
          break;
        }
        case "properties":
          if (isObject(instance)) {
            for (const [name, sub] of Object.entries(value)) {
              if (has(instance, name)) collect(sub, instance[name], path.concat([name]), out);
            }
          }
          break;
        case "required":
          if (isObject(instance)) for (const name of value) if (!has(instance, name)) push(kw, { name });
          break;
        case "additionalProperties":
          if (isObject(instance)) {
            const known = schema.properties || {};
            const extra = Object.keys(instance).filter((k) => !has(known, k));
            if (value === false) {
              for (const name of extra.sort()) push(kw, { name, allowed: Object.keys(known).sort() });
            } else if (isObject(value)) {
              for (const name of extra) collect(value, instance[name], path.concat([name]), out);
            }
          }
          break;
        case "minLength": if (typeof instance === "string" && length(instance) < value) push(kw); break;
        case "maxLength": if (typeof instance === "string" && length(instance) > value) push(kw); break;
        case "pattern": if (typeof instance === "string" && !regex(value).test(instance)) push(kw); break;
        case "minimum": if (isNumber(instance) && instance < value) push(kw); break;
        case "maximum": if (isNumber(instance) && instance > value) push(kw); break;
        case "minItems": if (Array.isArray(instance) && instance.length < value) push(kw); break;
        case "maxItems": if (Array.isArray(instance) && instance.length > value) push(kw); break;
        case "items":
          if (Array.isArray(instance)) instance.forEach((item, i) => collect(value, item, path.concat([i]), out));
          break;
        case "enum": if (!value.some((v) => equal(v, instance))) push(kw); break;
        case "const": if (!equal(value, instance)) push(kw); break;
        case "allOf": for (const sub of value) collect(sub, instance, path, out); break;
        case "anyOf": if (!value.some((sub) => valid(sub, instance))) push(kw); break;
        case "oneOf": if (value.filter((sub) => valid(sub, instance)).length !== 1) push(kw); break;
        case "not": if (valid(value, instance)) push(kw); break;
        case "if":
          if (valid(value, instance)) { if (has(schema, "then")) collect(schema.then, instance, path, out); }
          else if (has(schema, "else")) collect(schema.else, instance, path, out);
          break;
        case "contains":
          if (Array.isArray(instance) && !instance.some((item) => valid(value, item))) push(kw);
          break;
        default:
          throw new Error("schema.js: unsupported keyword " + kw);
      }
    }
  }

  function valid(schema, instance) {
    const out = [];
    collect(schema, instance, [], out);
    return out.length === 0;
  }

  function errorPath(parts) {
    let s = "";
    for (const part of parts) s += typeof part === "number" ? "[" + part + "]" : (s ? "." + part : String(part));
    return s;
  }

  /* Python's repr() of a JSON value, for messages that name allowed values. */
  function pyRepr(v) {
    if (typeof v === "string") return v.includes("'") && !v.includes('"') ? '"' + v + '"' : "'" + v.replace(/\\/g, "\\\\").replace(/'/g, "\\'") + "'";
    if (v === true) return "True";
    if (v === false) return "False";
    if (v === null) return "None";
    return String(v);
  }

  function describe(e) {
    const custom = e.schema["x-errorMessage"];
    if (e.rule === "required") return [errorPath(e.path.concat([e.name])), "is required"];
    if (e.rule === "additionalProperties") {
      return [errorPath(e.path.concat([e.name])), "is not a field of this tool (allowed: " + e.allowed.join(", ") + ")"];
    }
    const path = errorPath(e.path);
    if (custom) return [path, String(custom)];
    const v = e.value;
    switch (e.rule) {
      case "type": return [path, "must be " + (Array.isArray(v) ? v : [v]).map((t) => TYPE_WORDS[t] || t).join(" or ")];
      case "minLength": return [path, v === 1 ? "must not be empty" : "must be at least " + v + " characters long"];
      case "maxLength": return [path, "must be at most " + v + " characters long (got " + length(e.instance) + ")"];
      case "minimum": return [path, "must be at least " + v];
      case "maximum": return [path, "must be at most " + v];
      case "minItems": return [path, "must have at least " + v + " item" + (v !== 1 ? "s" : "")];
      case "maxItems": return [path, "must have at most " + v + " items (got " + e.instance.length + ")"];
      case "enum": return [path, "must be one of: " + v.map(pyRepr).join(", ")];
      case "const": return [path, "must be " + pyRepr(v)];
      case "pattern": return [path, "has the wrong format"];
      default: return [path, "breaks the schema rule '" + e.rule + "'"];
    }
  }

  /* Every problem, as the block reports them: [{path, rule, message}], sorted by path; one per
   * (path, message) unless options.all (then one per failed rule, as jsonschema lists them). */
  function validate(schema, instance, options) {
    const all = Boolean(options && options.all);
    const raw = [];
    collect(schema, instance, [], raw);
    const seen = new Set();
    const out = [];
    for (const e of raw) {
      const [path, message] = describe(e);
      const key = path + "\u0000" + message + (all ? "\u0000" + e.rule : "");
      if (seen.has(key)) continue;
      seen.add(key);
      out.push({ path, rule: e.rule, message });
    }
    out.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
    return out;
  }

  /* What the block does to input before validating it (validation.normalize), so that the page
   * accepts what the block accepts: bound credentials may be left out, nulls are dropped (nested
   * ones too) and a phone number as chatId becomes '<digits>@c.us'. */
  function normalizeChatId(value) {
    if (value.includes("@")) {
      const at = value.indexOf("@");
      const number = value.slice(0, at), suffix = value.slice(at + 1);
      return suffix === "s.whatsapp.net" ? number + "@c.us" : value;
    }
    const digits = value.replace(/[\s+\-().]/gu, "");
    return /^[0-9]{7,15}$/.test(digits) ? digits + "@c.us" : value;
  }

  function dropNulls(value) {
    if (Array.isArray(value)) return value.map(dropNulls);
    if (isObject(value)) {
      const out = {};
      for (const [k, v] of Object.entries(value)) if (v !== null && v !== undefined) out[k] = dropNulls(v);
      return out;
    }
    return value;
  }

  function normalize(args, bound) {
    const data = dropNulls(Object.assign({}, args));
    if (typeof data.idInstance === "number" && Number.isInteger(data.idInstance) && data.idInstance >= 0) {
      data.idInstance = String(data.idInstance);
    }
    if (typeof data.chatId === "string") data.chatId = normalizeChatId(data.chatId.trim());
    for (const key of bound || []) if (data[key] === "") delete data[key];
    return data;
  }

  /* Validate form input as the block will: bound credentials count as given. */
  function check(schema, args, bound) {
    const boundKeys = bound || [];
    const data = normalize(args, boundKeys);
    return validate(schema, data).filter((e) => !(e.rule === "required" && boundKeys.includes(e.path)));
  }

  root.GreenApiSchema = { validate, valid, check, normalize, normalizeChatId, errorPath };
})(typeof window !== "undefined" ? window : globalThis);
