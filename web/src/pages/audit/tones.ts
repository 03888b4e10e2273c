// Links that keep WCAG AA contrast in both themes (axe checks every screen): in the text
// colour and underlined, since the primary colour on a striped row falls short of 4.5:1.
// Statuses are dot badges for the same reason (the light variant's green is 3.8:1).
export const LINK = { c: "var(--mantine-color-text)", underline: "always" } as const;
