// Where each OpenCode database row lives in the repo, and back: the record path is the row's
// address (table, id, and the session and message it belongs to). Ids are checked, so a path
// from the repo can never name anything but a row.
export type Table = "project" | "permission" | "session" | "message" | "part" | "todo";

export const SAFE_ID = /^[A-Za-z0-9_.-]{1,200}$/;

export interface RecordAddress {
  readonly table: Table;
  readonly id: string;
  readonly sessionId?: string;
  readonly messageId?: string;
}

/** Everything of one session (its row, todos, messages and parts) lives below this folder. */
export const sessionFolder = (sessionId: string): string => `db/sessions/${sessionId}/`;

/** The folder of a session's messages or of its parts (by message below it). */
export const sessionRows = (sessionId: string, table: "message" | "part"): string => `${sessionFolder(sessionId)}${table === "message" ? "messages" : "parts"}/`;

/** A GLOB matching the record paths of each table. */
export const TABLE_GLOBS: Readonly<Record<Table, string>> = {
  project: "db/projects/*",
  permission: "db/permissions/*",
  session: `${sessionFolder("*")}session.json`,
  todo: `${sessionFolder("*")}todos.json`,
  message: `${sessionRows("*", "message")}*`,
  part: `${sessionRows("*", "part")}*`,
};

export function recordPath(a: RecordAddress): string {
  switch (a.table) {
    case "project":
      return `db/projects/${a.id}.json`;
    case "permission":
      return `db/permissions/${a.id}.json`;
    case "session":
      return `${sessionFolder(a.id)}session.json`;
    case "todo":
      return `${sessionFolder(a.id)}todos.json`;
    case "message":
      return `${sessionRows(a.sessionId!, "message")}${a.id}.json`;
    case "part":
      return `${sessionRows(a.sessionId!, "part")}${a.messageId}/${a.id}.json`;
  }
}

/** A path segment that is an id (never "." or ".."), or undefined. */
function idOf(x: string | undefined): string | undefined {
  return x !== undefined && SAFE_ID.test(x) && x !== "." && x !== ".." ? x : undefined;
}

/** The id in "<id>.json", or undefined. */
function jsonIdOf(x: string | undefined): string | undefined {
  return x?.endsWith(".json") ? idOf(x.slice(0, -5)) : undefined;
}

export function parseRecordPath(path: string): RecordAddress | undefined {
  const s = path.split("/");
  if (s[0] !== "db") return undefined;
  if (s.length === 3 && (s[1] === "projects" || s[1] === "permissions")) {
    const id = jsonIdOf(s[2]);
    return id === undefined ? undefined : { table: s[1] === "projects" ? "project" : "permission", id };
  }
  const sessionId = idOf(s[2]);
  if (s[1] !== "sessions" || sessionId === undefined) return undefined;
  if (s.length === 4 && s[3] === "session.json") return { table: "session", id: sessionId };
  if (s.length === 4 && s[3] === "todos.json") return { table: "todo", id: sessionId };
  const id = jsonIdOf(s[s.length - 1]);
  if (id === undefined) return undefined;
  if (s.length === 5 && s[3] === "messages") return { table: "message", id, sessionId };
  const messageId = idOf(s[4]);
  if (s.length === 6 && s[3] === "parts" && messageId !== undefined) return { table: "part", id, sessionId, messageId };
  return undefined;
}

/** The session a record path belongs to (its own id for a session row or todo list), if any. */
export function sessionOf(path: string): string | undefined {
  const a = parseRecordPath(path);
  return a?.sessionId ?? (a?.table === "session" || a?.table === "todo" ? a.id : undefined);
}

/**
 * The record's path is its identity: what its content says of its own id (and of its session and
 * message) must agree, or the record could overwrite a row that is not its own. Undefined when it does.
 */
export function identityMismatch(a: RecordAddress, row: Readonly<Record<string, unknown>>): string | undefined {
  const says: [string, string | undefined][] = [
    ["id", a.table === "todo" ? undefined : a.id],
    ["session_id", a.sessionId],
    ["message_id", a.messageId],
  ];
  for (const [column, expected] of says) {
    if (expected !== undefined && column in row && String(row[column]) !== expected) return `its content says ${column} ${JSON.stringify(row[column])}, its path says ${expected}`;
  }
  return undefined;
}
