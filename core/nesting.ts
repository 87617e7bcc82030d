// A record nested thousands deep is an attack or damage, not data: recursion over it (printing,
// comparing, merging) would overflow the stack and take every sync down with it. It is refused
// by depth before anything recurses, with one linear pass and no recursion of its own.

/** The deepest nesting of objects and arrays accepted in a record's JSON. */
export const MAX_NESTING = 512;

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN = new Set([0x7b, 0x5b]);
const CLOSE = new Set([0x7d, 0x5d]);

/** Whether JSON (as UTF-8 bytes or text) nests objects and arrays deeper than `limit`; brackets inside strings do not count. */
export function nestsDeeper(json: Uint8Array | string, limit = MAX_NESTING): boolean {
  // Fewer bytes than opening brackets needed: no need to look.
  if (json.length <= limit) return false;
  const at = typeof json === "string" ? (i: number) => json.charCodeAt(i) : (i: number) => json[i]!;
  let depth = 0;
  let inString = false;
  for (let i = 0; i < json.length; i++) {
    const c = at(i);
    if (inString) {
      if (c === BACKSLASH) i++;
      else if (c === QUOTE) inString = false;
    } else if (c === QUOTE) inString = true;
    else if (OPEN.has(c)) {
      if (++depth > limit) return true;
    } else if (CLOSE.has(c)) depth--;
  }
  return false;
}
