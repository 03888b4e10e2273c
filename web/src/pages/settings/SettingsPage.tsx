import { Tabs } from "@mantine/core";
import type { ReactNode } from "react";
import { useSearchParams } from "react-router";

import { useSession } from "../../auth/session";
import { PageHeader } from "../../components/PageHeader";
import { ReadOnlyNote } from "./common";
import { EgressTab } from "./EgressTab";
import { EscalationTab } from "./EscalationTab";
import { GeneralTab } from "./GeneralTab";
import { IdentityProviderTab } from "./IdentityProviderTab";
import { NotificationsTab } from "./NotificationsTab";

interface Tab {
  value: string;
  label: string;
  panel: () => ReactNode;
  needs?: string;
}

const TABS: Tab[] = [
  { value: "general", label: "General", panel: () => <GeneralTab /> },
  { value: "egress", label: "Egress allowlist", panel: () => <EgressTab /> },
  { value: "identity", label: "Identity provider", panel: () => <IdentityProviderTab /> },
  {
    value: "notifications",
    label: "My notifications",
    panel: () => <NotificationsTab />,
    needs: "health:read",
  },
  {
    value: "escalation",
    label: "Health escalation",
    panel: () => <EscalationTab />,
    needs: "health:read",
  },
];

/** The organization's settings, one tab each; the tab is in the address (?tab=egress). */
export default function SettingsPage() {
  const { can } = useSession();
  const [params, setParams] = useSearchParams();
  const tabs = TABS.filter((t) => !t.needs || can(t.needs));
  const wanted = params.get("tab");
  const active = tabs.some((t) => t.value === wanted) ? wanted! : "general";
  const organizationTab = active === "general" || active === "egress" || active === "identity";

  return (
    <>
      <PageHeader
        title="Settings"
        description="Your organization's name, time zone, egress allowlist and sign-in, and how you are notified."
      />
      <Tabs
        value={active}
        onChange={(value) => setParams(value && value !== "general" ? { tab: value } : {}, { replace: true })}
        keepMounted={false}
      >
        <Tabs.List mb="md" style={{ flexWrap: "wrap" }}>
          {tabs.map((t) => (
            <Tabs.Tab key={t.value} value={t.value}>
              {t.label}
            </Tabs.Tab>
          ))}
        </Tabs.List>
        {organizationTab && !can("org:write") ? (
          <ReadOnlyNote>
            You can see these settings; changing them needs the org:write permission (the admin
            role).
          </ReadOnlyNote>
        ) : null}
        {tabs.map((t) => (
          <Tabs.Panel key={t.value} value={t.value}>
            {t.panel()}
          </Tabs.Panel>
        ))}
      </Tabs>
    </>
  );
}
