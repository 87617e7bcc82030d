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

export function recordPath(a: RecordAddress): string {
  switch (a.table) {
    case "project":
      return `db/projects/${a.id}.json`;
    case "permission":
      return `db/permissions/${a.id}.json`;
    case "session":
      return `db/sessions/${a.id}/session.json`;
    case "todo":
      return `db/sessions/${a.id}/todos.json`;
    case "message":
      return `db/sessions/${a.sessionId}/messages/${a.id}.json`;
    case "part":
      return `db/sessions/${a.sessionId}/parts/${a.messageId}/${a.id}.json`;
  }
}

export function parseRecordPath(path: string): RecordAddress | undefined {
  const s = path.split("/");
  const id = (x: string | undefined) => (x !== undefined && SAFE_ID.test(x) && x !== "." && x !== ".." ? x : undefined);
  const json = (x: string | undefined) => (x?.endsWith(".json") ? id(x.slice(0, -5)) : undefined);
  if (s[0] !== "db") return undefined;
  if (s.length === 3 && s[1] === "projects" && json(s[2])) return { table: "project", id: json(s[2])! };
  if (s.length === 3 && s[1] === "permissions" && json(s[2])) return { table: "permission", id: json(s[2])! };
  if (s[1] !== "sessions" || !id(s[2])) return undefined;
  const sessionId = s[2]!;
  if (s.length === 4 && s[3] === "session.json") return { table: "session", id: sessionId };
  if (s.length === 4 && s[3] === "todos.json") return { table: "todo", id: sessionId };
  if (s.length === 5 && s[3] === "messages" && json(s[4])) return { table: "message", id: json(s[4])!, sessionId };
  if (s.length === 6 && s[3] === "parts" && id(s[4]) && json(s[5])) return { table: "part", id: json(s[5])!, sessionId, messageId: s[4]! };
  return undefined;
}

