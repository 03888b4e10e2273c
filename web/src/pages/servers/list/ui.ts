import { useMantineTheme } from "@mantine/core";

/**
 * The primary colour a shade darker for filled buttons: white text on the theme's default
 * shade is below WCAG AA contrast (4.5:1), and axe says so.
 */
export function useStrongPrimary(): string {
  return `${useMantineTheme().primaryColor}.7`;
}

/** A labelled close button for modals and notifications (axe: button-name). */
export const CLOSE = { "aria-label": "Close" };

/**
 * Styles for an Alert that says how something went: the default surface (full-contrast text
 * in both schemes) with a coloured edge, instead of the light variant's low-contrast title.
 */
export function outcomeStyles(color: string) {
  return { root: { borderLeft: `4px solid var(--mantine-color-${color}-filled)` } };
}
