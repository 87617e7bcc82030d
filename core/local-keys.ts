// Keys of a synced JSON/JSONC file that are one machine's own (`"local"` in opencode-sync.jsonc):
// this machine never uploads its values there and never takes other machines' values there. Both
// directions are one move: give `target` the values `source` has at those keys (a key `source`
// lacks is removed from `target`), by minimal jsonc-parser edits, so comments and formatting stay.
import { applyEdits, findNodeAtLocation, getNodeValue, modify, parseTree, type JSONPath, type ParseError } from "jsonc-parser";
import { isDeepStrictEqual } from "node:util";
import { editOptions } from "./merge/json.js";
import { pointerKeys } from "./merge/json-value.js";

/** A JSON Pointer (RFC 6901) of object keys: "/mcp/foo/command" → ["mcp", "foo", "command"]. */
export function parsePointer(pointer: string): string[] {
  if (!pointer.startsWith("/") || pointer === "/") throw new Error(`"${pointer}" is not a JSON pointer to a key (like "/model" or "/mcp/foo/command")`);
  return pointerKeys(pointer);
}

/** The parsed tree of a JSON/JSONC text whose top level is an object; undefined for anything else. */
function objectTree(text: string) {
  const errors: ParseError[] = [];
  const tree = parseTree(text, errors, { allowTrailingComma: true, disallowComments: false });
  return errors.length || tree?.type !== "object" ? undefined : tree;
}

function nodeAt(tree: NonNullable<ReturnType<typeof objectTree>>, path: JSONPath) {
  return findNodeAtLocation(tree, path);
}

/** Stands in for a value while jsonc-parser places its key; then the source's own text replaces it. */
const PLACEHOLDER = JSON.stringify("\u0000oc-sync-value\u0000");

/**
 * `target` with `source`'s values at `paths`, each written as `source` writes it; unchanged when
 * either is not a JSON object (a file that does not parse is left to the checks that refuse it).
 */
export function transplant(target: string, source: string, paths: readonly JSONPath[]): string {
  const from = objectTree(source);
  if (!from || !objectTree(target)) return target;
  let out = target;
  for (const path of paths) {
    const want = nodeAt(from, path);
    const have = nodeAt(objectTree(out)!, path);
    if (!want && !have) continue;
    if (want && have && isDeepStrictEqual(getNodeValue(want), getNodeValue(have))) continue;
    if (!want) {
      out = applyEdits(out, modify(out, path, undefined, editOptions(out)));
      continue;
    }
    // modify places the key (and creates missing parents); the value keeps the source's spelling.
    out = applyEdits(out, modify(out, path, JSON.parse(PLACEHOLDER), editOptions(out))).replace(PLACEHOLDER, source.slice(want.offset, want.offset + want.length));
  }
  return out;
}
