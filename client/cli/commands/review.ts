// review: the CLI's face of client/sync/executable-gate.ts. Lists changes to what OpenCode
// executes that a sync held, with both values; --accept writes one here and syncs, --discard keeps
// this machine's value (the repo keeps its own, for the other machines).
import { acceptHeld, describeHeld, discardHeld, listHeld } from "../../sync/executable-gate.js";
import type { SyncContext } from "../../sync/context.js";
import { runSync } from "../../sync/cycle.js";
import { UnknownHeldError } from "../../state/held-store.js";
import { EXIT, UsageError, type Output } from "../output.js";
import { printReport } from "./sync.js";

export async function reviewCommand(ctx: SyncContext, out: Output, decision: { accept?: string; discard?: string }): Promise<number> {
  if (decision.accept !== undefined && decision.discard !== undefined) throw new UsageError("review takes --accept ID or --discard ID, not both");
  try {
    if (decision.accept !== undefined) return await accept(ctx, out, decision.accept);
    if (decision.discard !== undefined) return await discard(ctx, out, decision.discard);
  } catch (e) {
    if (e instanceof UnknownHeldError) throw new UsageError(e.message);
    throw e;
  }
  const held = await listHeld(ctx);
  if (!held.length) out.line("nothing held: every change to what OpenCode executes is applied");
  for (const h of held) for (const line of describeHeld(h)) out.line(line);
  if (held.length) out.line("decide with: oc-sync review --accept <id> (apply it here) or --discard <id> (keep yours)");
  out.result(held);
  return held.some((h) => h.status === "held") ? EXIT.attention : EXIT.ok;
}

async function accept(ctx: SyncContext, out: Output, id: string): Promise<number> {
  const h = await acceptHeld(ctx, id);
  out.line(`accepted ${h.id}: ${h.path}${h.at ? ` ${h.at}` : ""} now has ${h.writer}'s value (restart OpenCode to use it)`);
  const report = await runSync(ctx);
  printReport(out, report);
  out.result({ accepted: h.id, sync: report });
  return EXIT.ok;
}

async function discard(ctx: SyncContext, out: Output, id: string): Promise<number> {
  const h = await discardHeld(ctx, id);
  out.line(`discarded ${h.id}: ${h.path}${h.at ? ` ${h.at}` : ""} keeps this machine's value; the sync repo keeps ${h.writer}'s for the other machines`);
  out.result({ discarded: h.id });
  return EXIT.ok;
}
