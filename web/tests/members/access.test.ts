import { describe, expect, it } from "vitest";

import {
  byResource,
  catalogOf,
  grantable,
  PERMISSIONS,
  type Role,
} from "../../src/pages/members/access";
import { fakeMe, fakeSession } from "../render";

const role = (name: string, effective: string[], builtIn = false): Role => ({
  name,
  description: null,
  built_in: builtIn,
  permissions: effective,
  extends: [],
  effective_permissions: effective,
});

describe("the permission catalog", () => {
  it("comes from the admin role when the roles are known", () => {
    expect(catalogOf([role("admin", ["servers:read", "new:thing"], true)])).toEqual([
      "servers:read",
      "new:thing",
    ]);
    expect(catalogOf(undefined)).toEqual([...PERMISSIONS]);
  });

  it("groups permissions by resource", () => {
    expect(byResource(["servers:read", "servers:write", "audit:read"])).toEqual([
      ["servers", ["servers:read", "servers:write"]],
      ["audit", ["audit:read"]],
    ]);
  });
});

describe("the grant limit", () => {
  it("offers only roles whose permissions the caller holds", () => {
    const me = fakeMe({ permissions: ["servers:read", "users:read", "users:write"] });
    const session = { session: fakeSession(me), me, can: () => true };
    const roles = [role("viewer", ["servers:read"], true), role("admin", [...PERMISSIONS], true)];
    expect(grantable(roles, session).map((r) => r.name)).toEqual(["viewer"]);
  });
});
