// What the form checks as the person types, mirroring the API's own rules; the API still
// decides (its egress policy may refuse a URL that looks fine here).

export const ENVIRONMENT_PATTERN = /^[a-z][a-z0-9-]{1,31}$/;
export const TAG_PATTERN = /^[a-z0-9][a-z0-9-]{0,62}$/;
export const ENVIRONMENTS = ["development", "staging", "production"];
export const MAX_TAGS = 20;

/** Why `value` is not a URL the registry takes, or null when it is. */
export function urlProblem(value: string): string | null {
  const text = value.trim();
  if (!text) return "Enter the server's MCP endpoint URL.";
  if (/\s/.test(value.trim()) || text.includes("\\")) return "The URL cannot contain spaces or backslashes.";
  if (!/^https?:\/\//i.test(text)) return "The URL must start with https:// or http://.";
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return "This is not a valid URL.";
  }
  if (!url.hostname) return "The URL needs a host name.";
  if (url.username || url.password || /^https?:\/\/[^/?#]*@/i.test(text)) {
    return "Don't put credentials in the URL; choose an authentication type below.";
  }
  if (text.length > 2048) return "The URL can be at most 2048 characters.";
  return null;
}

export function nameProblem(value: string): string | null {
  const text = value.trim();
  if (!text) return "Enter a name.";
  if (text.length > 100) return "The name can be at most 100 characters.";
  return null;
}

export function environmentProblem(value: string): string | null {
  if (!value) return "Enter an environment.";
  if (!ENVIRONMENT_PATTERN.test(value)) {
    return "2 to 32 characters: lowercase letters, digits and hyphens, starting with a letter.";
  }
  return null;
}

export function tagsProblem(tags: string[]): string | null {
  const bad = tags.filter((t) => !TAG_PATTERN.test(t));
  if (bad.length) return `Tags are lowercase letters, digits and hyphens: ${bad.join(", ")}`;
  if (tags.length > MAX_TAGS) return `At most ${MAX_TAGS} tags.`;
  return null;
}
