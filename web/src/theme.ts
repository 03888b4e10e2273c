import {
  Alert,
  Drawer,
  Modal,
  Notification,
  createTheme,
  type CSSVariablesResolver,
} from "@mantine/core";

// Filled buttons and badges use shade 7 (light) / 8 (dark): white text on them reaches the
// 4.5:1 contrast of WCAG AA for every colour. Close buttons say what they do.
const closeLabel = { closeButtonProps: { "aria-label": "Close" } };
export const theme = createTheme({
  primaryColor: "indigo",
  primaryShade: { light: 7, dark: 8 },
  defaultRadius: "md",
  components: {
    Modal: Modal.extend({ defaultProps: closeLabel }),
    Drawer: Drawer.extend({ defaultProps: closeLabel }),
    Notification: Notification.extend({ defaultProps: closeLabel }),
    Alert: Alert.extend({ defaultProps: { closeButtonLabel: "Close" } }),
  },
});

// Secondary and error text dark (or light) enough for WCAG AA contrast (4.5:1) in both themes.
export const contrast: CSSVariablesResolver = (t) => ({
  variables: {},
  light: {
    "--mantine-color-dimmed": t.colors.gray[7] ?? "#495057",
    "--mantine-color-error": t.colors.red[9] ?? "#c92a2a",
  },
  dark: {
    "--mantine-color-dimmed": t.colors.dark[1] ?? "#b8b8b8",
    "--mantine-color-error": t.colors.red[4] ?? "#ff8787",
  },
});

