// The token reaches git only through the child's environment (GIT_CONFIG_COUNT…), never a
// URL or .git/config, and every form git might echo back is masked from errors.

export interface GitAuth {
  readonly token: string;
}

function basic(token: string): string {
  // GitHub accepts any user name with the token as the password, as does our test server.
  return Buffer.from(`x-access-token:${token}`).toString("base64");
}

export function authEnv(auth: GitAuth | undefined): Record<string, string> {
  if (!auth) return {};
  return {
    GIT_CONFIG_COUNT: "1",
    GIT_CONFIG_KEY_0: "http.extraHeader",
    GIT_CONFIG_VALUE_0: `Authorization: Basic ${basic(auth.token)}`,
  };
}

/** Every spelling of the token that could appear in output. */
export function secretForms(auth: GitAuth | undefined): string[] {
  if (!auth || auth.token === "") return [];
  const t = auth.token;
  return [t, basic(t), Buffer.from(t).toString("base64"), encodeURIComponent(t)].filter((s, i, all) => s.length >= 4 && all.indexOf(s) === i);
}
