// Paths of both OS families through the repo's one form: what a session's directory and a
// message's cwd become in the repo, and on each machine that applies them.
import { join, posix, win32 } from "node:path";
import { describe, expect, it } from "vitest";
import { ocSyncPaths, openCodePaths } from "../../client/platform/paths.js";
import { canonicalPath, compressHome, expandPortable, isWindowsPath, toLocalPath, toPortablePath, type PathContext } from "../../client/sources/path-translation.js";

const windows: PathContext = { home: "C:\\Users\\ana", pathMap: {} };
const linux: PathContext = { home: "/home/ana", pathMap: {} };
const mac: PathContext = { home: "/Users/ana", pathMap: {} };

describe("path families", () => {
  it.each([
    ["C:\\Users\\ana", true],
    ["c:/git/x", true],
    ["D:", true],
    ["\\\\server\\share\\proj", true],
    ["//server/share/proj", true],
    ["/home/ana", false],
    ["~/code", false],
    ["relative\\dir", false],
  ])("%s is a Windows path: %s", (p, expected) => expect(isWindowsPath(p)).toBe(expected));

  it.each([
    ["C:\\git\\proj", "C:/git/proj"],
    ["c:\\git\\proj", "C:/git/proj"],
    ["\\\\server\\share\\proj", "//server/share/proj"],
    ["~\\code\\demo", "~/code/demo"],
    ["/home/ana/a\\b", "/home/ana/a\\b"],
  ])("the repo's form of %s is %s", (p, expected) => expect(canonicalPath(p)).toBe(expected));
});

describe("into the repo", () => {
  it.each([
    [windows, "C:\\Users\\ana\\code\\demo", "~/code/demo"],
    [windows, "c:\\users\\ANA\\code\\demo", "~/code/demo"],
    [windows, "C:\\Users\\anabel\\x", "C:/Users/anabel/x"],
    [windows, "D:\\work\\proj", "D:/work/proj"],
    [windows, "\\\\nas\\home\\proj", "//nas/home/proj"],
    [linux, "/home/ana/code/demo", "~/code/demo"],
    [linux, "/home/anabel", "/home/anabel"],
    [mac, "/Users/ana", "~"],
  ])("%j: %s is stored as %s", (ctx, local, stored) => expect(compressHome(local, ctx.home)).toBe(stored));

  it("a home with a trailing separator or a lower-case drive still compresses", () => {
    expect(compressHome("C:\\Users\\ana\\x", "c:\\Users\\ana\\")).toBe("~/x");
  });

  it("a home or a pathMap root that is a whole drive keeps one separator", () => {
    expect(compressHome("C:\\git\\x", "C:\\")).toBe("~/git/x");
    expect(expandPortable("~/git/x", { home: "C:\\", pathMap: {} })).toBe("C:\\git\\x");
    expect(expandPortable("C:/git/x", { home: "/home/ana", pathMap: { "C:\\": "/mnt/c" } })).toBe("/mnt/c/git/x");
    expect(expandPortable("C:/git/x", { home: "/home/ana", pathMap: { "C:\\git": "/home/ana/src/" } })).toBe("/home/ana/src/x");
  });
});

describe("out of the repo", () => {
  it.each([
    [windows, "~/code/demo", "C:\\Users\\ana\\code\\demo"],
    [windows, "C:/git/proj", "C:\\git\\proj"],
    [windows, "//nas/home/proj", "\\\\nas\\home\\proj"],
    [windows, "/srv/data", "/srv/data"],
    [linux, "~/code/demo", "/home/ana/code/demo"],
    [linux, "C:/git/proj", "C:/git/proj"],
    [mac, "~", "/Users/ana"],
  ])("%j: %s is written as %s", (ctx, stored, local) => expect(expandPortable(stored, ctx)).toBe(local));

  it("pathMap takes roots of either family, on either side", () => {
    const onLinux: PathContext = { home: "/home/ana", pathMap: { "C:\\git": "/home/ana/src", "D:/work": "/srv/work" } };
    expect(expandPortable("C:/git/proj/a", onLinux)).toBe("/home/ana/src/proj/a");
    expect(expandPortable("c:/GIT/proj", onLinux)).toBe("/home/ana/src/proj");
    expect(expandPortable("D:/work", onLinux)).toBe("/srv/work");
    const onWindows: PathContext = { home: "C:\\Users\\ana", pathMap: { "/Users/ana/code": "D:\\code", "~/src": "E:\\src" } };
    expect(expandPortable("/Users/ana/code/x", onWindows)).toBe("D:\\code\\x");
    expect(expandPortable("~/src/y", onWindows)).toBe("E:\\src\\y");
  });

  it("a session whose folder is a whole drive, share or home maps nothing into a checkout", () => {
    for (const portableRoot of ["C:/", "~", "//nas/share", "/"]) {
      expect(toLocalPath("C:/Users/ana/other", linux, { portableRoot, localRoot: "/home/ana/demo" })).toBe("C:/Users/ana/other");
    }
  });

  it("a path under the project's root lands in this machine's checkout, joined the way its family joins", () => {
    const project = { portableRoot: "C:/Users/ana/code/demo", localRoot: "/home/ana/work/demo" };
    expect(toLocalPath("C:/Users/ana/code/demo/src", linux, project)).toBe(posix.join("/home/ana/work/demo", "src"));
    expect(toLocalPath("c:/users/ana/code/demo", linux, project)).toBe("/home/ana/work/demo");
    const back = { portableRoot: "~/work/demo", localRoot: "C:\\Users\\ana\\code\\demo" };
    expect(toLocalPath("~/work/demo/src/a", windows, back)).toBe(win32.join("C:\\Users\\ana\\code\\demo", "src", "a"));
  });
});

describe("round trips", () => {
  const cases: [string, PathContext, string][] = [
    ["Windows", windows, "C:\\Users\\ana\\code\\demo"],
    ["Windows, outside the home", windows, "D:\\work\\proj"],
    ["Windows, a share", windows, "\\\\nas\\home\\proj"],
    ["Linux", linux, "/home/ana/code/demo"],
    ["macOS", mac, "/Users/ana/code/demo"],
  ];
  it.each(cases)("%s: a path scanned, applied and scanned again is the same repo value", (_name, ctx, local) => {
    const stored = toPortablePath(local, undefined, ctx);
    expect(stored).not.toContain("\\");
    expect(expandPortable(stored, ctx)).toBe(local);
    expect(toPortablePath(local, stored, ctx)).toBe(stored);
  });

  it("a Windows session mapped into a Linux checkout keeps its repo value when scanned on Linux", () => {
    const project = { portableRoot: "~/code/demo", localRoot: "/home/ana/work/demo" };
    const local = toLocalPath("~/code/demo", linux, project);
    expect(toPortablePath(local, "~/code/demo", linux, project)).toBe("~/code/demo");
  });
});

describe("OpenCode's folders on every OS", () => {
  it("a Windows-style home (USERPROFILE, no HOME) and XDG overrides resolve as OpenCode resolves them", () => {
    const byProfile = openCodePaths({ USERPROFILE: "/profiles/ana" });
    expect(byProfile.config).toBe(join("/profiles/ana", ".config", "opencode"));
    expect(byProfile.database).toBe(join("/profiles/ana", ".local", "share", "opencode", "opencode.db"));
    const overridden = openCodePaths({ HOME: "/home/ana", USERPROFILE: "/profiles/ana", XDG_CONFIG_HOME: "/cfg", XDG_DATA_HOME: "/data", XDG_STATE_HOME: "/state" });
    expect([overridden.home, overridden.config, overridden.data, overridden.state]).toEqual(["/home/ana", join("/cfg", "opencode"), join("/data", "opencode"), join("/state", "opencode")]);
    expect(ocSyncPaths({ USERPROFILE: "/profiles/ana", XDG_DATA_HOME: "/data" }).repo).toBe(join("/data", "oc-sync", "repo.git"));
  });
});
