// Every screen: its path, its place in the navigation, and what the caller needs to see it.
// Screens load on demand, so the first page carries only the shell and the screen it shows.
import { lazy, type ComponentType, type LazyExoticComponent } from "react";

import type { Session } from "./auth/session";
import NotFound from "./pages/NotFound";

export interface Screen {
  path: string;
  label?: string; // in the navigation when set
  group?: "Registry" | "Access" | "Governance" | "Organization";
  visible?: (session: Session) => boolean;
  component: LazyExoticComponent<ComponentType>;
}

const page = (load: () => Promise<{ default: ComponentType }>) => lazy(load);
const needs = (permission: string) => (s: Session) => s.can(permission);
const lacks = (permission: string) => (s: Session) => !s.can(permission);
// Already in the first page's bundle (App.tsx answers unknown addresses with it).
const nothingHere = page(() => Promise.resolve({ default: NotFound }));

export const SCREENS: Screen[] = [
  { path: "/", label: "Overview", component: page(() => import("./pages/profile/Overview")) },
  {
    path: "/servers",
    label: "Servers",
    group: "Registry",
    visible: needs("servers:read"),
    component: page(() => import("./pages/servers/ServerList")),
  },
  {
    path: "/servers/:serverId/*",
    visible: needs("servers:read"),
    component: page(() => import("./pages/servers/ServerDetail")),
  },
  {
    path: "/search",
    label: "Find servers",
    group: "Registry",
    visible: needs("servers:read"),
    component: page(() => import("./pages/search/SearchPage")),
  },
  {
    path: "/playground",
    label: "Playground",
    group: "Registry",
    visible: needs("tools:invoke"),
    component: page(() => import("./pages/playground/PlaygroundPage")),
  },
  {
    path: "/toolsets",
    label: "Toolsets",
    group: "Registry",
    visible: needs("toolsets:read"),
    component: page(() => import("./pages/toolsets/ToolsetsPage")),
  },
  {
    path: "/toolsets/new",
    visible: needs("toolsets:write"),
    component: page(() => import("./pages/toolsets/ToolsetEditor")),
  },
  {
    path: "/toolsets/:toolsetId",
    visible: needs("toolsets:read"),
    component: page(() => import("./pages/toolsets/ToolsetDetail")),
  },
  {
    path: "/toolsets/:toolsetId/edit",
    visible: needs("toolsets:write"),
    component: page(() => import("./pages/toolsets/ToolsetEditor")),
  },
  // Without toolsets:write the editor's addresses answer "nothing here" like any screen the
  // caller may not see: otherwise "/toolsets/new" would open the toolset whose id is "new".
  { path: "/toolsets/new", visible: lacks("toolsets:write"), component: nothingHere },
  { path: "/toolsets/:toolsetId/edit", visible: lacks("toolsets:write"), component: nothingHere },
  {
    path: "/api-keys",
    label: "API keys",
    group: "Access",
    visible: needs("api_keys:read"),
    component: page(() => import("./pages/apikeys/ApiKeysPage")),
  },
  {
    path: "/members",
    label: "Members",
    group: "Access",
    visible: needs("users:read"),
    component: page(() => import("./pages/members/MembersPage")),
  },
  {
    path: "/roles",
    label: "Roles",
    group: "Access",
    visible: needs("roles:read"),
    component: page(() => import("./pages/members/RolesPage")),
  },
  {
    path: "/policies",
    label: "Policies",
    group: "Governance",
    visible: needs("policies:read"),
    component: page(() => import("./pages/policies/PoliciesPage")),
  },
  {
    path: "/audit",
    label: "Audit log",
    group: "Governance",
    visible: needs("audit:read"),
    component: page(() => import("./pages/audit/AuditPage")),
  },
  {
    path: "/webhooks",
    label: "Webhooks",
    group: "Governance",
    visible: needs("webhooks:read"),
    component: page(() => import("./pages/webhooks/WebhooksPage")),
  },
  {
    path: "/webhooks/:webhookId",
    visible: needs("webhooks:read"),
    component: page(() => import("./pages/webhooks/WebhookDetail")),
  },
  {
    path: "/settings",
    label: "Settings",
    group: "Organization",
    visible: needs("org:read"),
    component: page(() => import("./pages/settings/SettingsPage")),
  },
  {
    path: "/admin/jobs",
    label: "Jobs",
    group: "Organization",
    visible: (s) => s.me.super_admin === true,
    component: page(() => import("./pages/settings/JobsPage")),
  },
];
