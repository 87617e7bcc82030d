// Stops that need the user: nothing was lost or changed, and the sync will not guess. The CLI
// exits 3 for these, and the plugin shows their message as a toast.

export class AttentionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

/** Main on the remote no longer holds what this machine last synced: it was reset, rewritten or recreated. */
export class RewrittenMainError extends AttentionError {
  constructor(remote: string, base: string) {
    super(
      `main on ${remote} no longer contains ${base.slice(0, 12)}, the commit this machine last synced: it was reset, force-pushed or recreated. Nothing was changed here. To put everything this machine has back into it (merged with what is there now), run 'oc-sync sync --repush'`,
    );
  }
}

/** Another machine pushes to this machine's branch: two machines share one id (a copied home). */
export class SharedMachineIdError extends AttentionError {
  constructor(machine: string) {
    super(
      `another machine syncs as '${machine}' (a copied home or restored backup on a second machine?): its commits are on machines/${machine} and this machine's are not. Nothing was pushed, and no file here was changed. Give this machine an id of its own: 'oc-sync init --machine NEW-NAME', then sync: it then offers everything it has again, and what it made under the shared id merges with the other machine's`,
    );
  }
}
