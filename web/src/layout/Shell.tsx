import {
  ActionIcon,
  AppShell,
  Burger,
  Group,
  Menu,
  NavLink,
  ScrollArea,
  Text,
  Tooltip,
  UnstyledButton,
  useComputedColorScheme,
  useMantineColorScheme,
} from "@mantine/core";
import { useDisclosure } from "@mantine/hooks";
import type { ReactNode } from "react";
import { Link, useLocation } from "react-router";

import { api, navigation, unwrap } from "../api/client";
import { useSession } from "../auth/session";
import { SCREENS, type Screen } from "../routes";
import { SessionEnded } from "./SessionEnded";

const GROUPS: (Screen["group"] | undefined)[] = [
  undefined,
  "Registry",
  "Access",
  "Governance",
  "Organization",
];

export function Shell({ children }: { children: ReactNode }) {
  const [opened, { toggle, close }] = useDisclosure();
  const session = useSession();
  const location = useLocation();
  const screens = SCREENS.filter((s) => s.label && (s.visible?.(session) ?? true));

  return (
    <AppShell
      header={{ height: 56 }}
      navbar={{ width: 230, breakpoint: "sm", collapsed: { mobile: !opened } }}
      padding="md"
    >
      <AppShell.Header>
        <Group h="100%" px="md" justify="space-between" wrap="nowrap">
          <Group gap="sm" wrap="nowrap">
            <Burger
              opened={opened}
              onClick={toggle}
              hiddenFrom="sm"
              size="sm"
              aria-label={opened ? "Close navigation" : "Open navigation"}
            />
            <Text component={Link} to="/" fw={700} size="lg">
              SprintConnect
            </Text>
            <Text c="dimmed" size="sm" visibleFrom="xs" data-testid="org-name">
              {session.me.org_name}
            </Text>
          </Group>
          <Group gap="xs" wrap="nowrap">
            <ThemeToggle />
            <UserMenu />
          </Group>
        </Group>
      </AppShell.Header>
      <AppShell.Navbar p="xs" aria-label="Main navigation">
        <ScrollArea>
          {GROUPS.map((group) => {
            const items = screens.filter((s) => s.group === group);
            if (!items.length) return null;
            return (
              <div key={group ?? "home"}>
                {group ? (
                  <Text size="xs" fw={700} c="dimmed" tt="uppercase" px="sm" pt="sm" pb={4}>
                    {group}
                  </Text>
                ) : null}
                {items.map((s) => (
                  <NavLink
                    key={s.path}
                    component={Link}
                    to={s.path}
                    label={s.label}
                    onClick={close}
                    active={
                      s.path === "/"
                        ? location.pathname === "/"
                        : location.pathname === s.path || location.pathname.startsWith(`${s.path}/`)
                    }
                  />
                ))}
              </div>
            );
          })}
        </ScrollArea>
      </AppShell.Navbar>
      <AppShell.Main>
        <div id="content">{children}</div>
        <SessionEnded />
      </AppShell.Main>
    </AppShell>
  );
}

function ThemeToggle() {
  const { setColorScheme } = useMantineColorScheme();
  const scheme = useComputedColorScheme("light");
  const next = scheme === "dark" ? "light" : "dark";
  return (
    <Tooltip label={`Switch to the ${next} theme`}>
      <ActionIcon
        variant="default"
        size="lg"
        onClick={() => setColorScheme(next)}
        aria-label={`Switch to the ${next} theme`}
      >
        <span aria-hidden>{scheme === "dark" ? "☀" : "☾"}</span>
      </ActionIcon>
    </Tooltip>
  );
}

async function signOut(): Promise<void> {
  const answer = await unwrap(api.POST("/auth/logout"));
  const target = (answer as { end_session_url?: string | null }).end_session_url;
  navigation.assign(target || "/");
}

function UserMenu() {
  const { me } = useSession();
  const who = me.name ?? me.email ?? "Account";
  return (
    <Menu position="bottom-end" withinPortal>
      <Menu.Target>
        {/* The accessible name starts with the visible text (WCAG 2.5.3). */}
        <UnstyledButton aria-label={`${who}: account menu`} px="xs" data-testid="user-menu">
          <Text size="sm" fw={500} truncate maw={{ base: 120, sm: 220 }}>
            {who}
          </Text>
        </UnstyledButton>
      </Menu.Target>
      <Menu.Dropdown>
        <Menu.Label>{me.email}</Menu.Label>
        <Menu.Item component={Link} to="/">
          Profile
        </Menu.Item>
        <Menu.Item component="a" href="/docs">
          API reference
        </Menu.Item>
        <Menu.Divider />
        <Menu.Item color="red" onClick={() => void signOut()}>
          Sign out
        </Menu.Item>
      </Menu.Dropdown>
    </Menu>
  );
}
