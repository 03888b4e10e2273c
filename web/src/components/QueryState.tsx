import { Center, Loader, Stack, Text } from "@mantine/core";
import type { UseQueryResult } from "@tanstack/react-query";
import type { ReactNode } from "react";

import { ProblemAlert } from "./ProblemAlert";

/**
 * The three states every screen has besides its content: loading, failed (the problem's
 * detail), and empty (`isEmpty` on the loaded data).
 */
export function QueryState<T>({
  query,
  empty,
  isEmpty,
  label = "Loading",
  children,
}: {
  query: UseQueryResult<T>;
  empty?: ReactNode;
  isEmpty?: (data: T) => boolean;
  label?: string;
  children: (data: T) => ReactNode;
}) {
  if (query.isPending) {
    return (
      <Center py="xl">
        <Loader size="sm" role="status" aria-label={label} />
      </Center>
    );
  }
  if (query.isError) return <ProblemAlert error={query.error} />;
  if (isEmpty?.(query.data) && empty !== undefined) return <EmptyState>{empty}</EmptyState>;
  return <>{children(query.data)}</>;
}

export function EmptyState({ children }: { children: ReactNode }) {
  return (
    <Stack align="center" py="xl" gap="xs" data-testid="empty-state">
      <Text c="dimmed" ta="center">
        {children}
      </Text>
    </Stack>
  );
}
