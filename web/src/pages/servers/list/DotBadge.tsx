import { Badge, Box, type BadgeProps } from "@mantine/core";
import type { ReactNode } from "react";

/**
 * A badge whose colour is a dot beside full-contrast text: Mantine's light variant puts
 * shade-9 text on a shade-1 fill, which is under 4.5:1 for green, orange and red.
 */
export function DotBadge({ color, children, ...props }: BadgeProps & { color: string; children: ReactNode }) {
  return (
    <Badge
      variant="default"
      tt="none"
      fw={600}
      leftSection={
        <Box
          component="span"
          aria-hidden
          w={8}
          h={8}
          style={{ borderRadius: "50%", background: `var(--mantine-color-${color}-filled)` }}
        />
      }
      {...props}
    >
      {children}
    </Badge>
  );
}
