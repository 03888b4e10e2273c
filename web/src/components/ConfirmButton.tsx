import { Button, Group, Modal, Text, type ButtonProps } from "@mantine/core";
import { useDisclosure } from "@mantine/hooks";
import type { ReactNode } from "react";

// Red text (the error colour: red 9 in the light theme, red 4 in the dark one, see
// web/src/theme.ts) on the page's own background or a neutral button keeps 5:1 and more in
// both themes, hovered too. Mantine's own red text (shades 6-7) stays under 4.5:1 on white, and
// a shade on the colour ("red.9") makes the light variant paint that shade solid behind text
// of the same red. Without a variant the button is a neutral one with red text; an explicit
// variant="default" (a neutral action that still asks first) keeps its usual text.
const RED_TEXT = new Set(["light", "subtle", "outline", "transparent"]);

/** A button that asks before a destructive action, and shows the action's progress. */
export function ConfirmButton({
  children,
  title,
  message,
  confirmLabel,
  onConfirm,
  loading,
  ...props
}: ButtonProps & {
  children: ReactNode;
  title: string;
  message: ReactNode;
  confirmLabel: string;
  onConfirm: () => void | Promise<unknown>;
  loading?: boolean;
}) {
  const [opened, { open, close }] = useDisclosure(false);
  const variant = props.variant ?? "default";
  const redText = props.variant === undefined || RED_TEXT.has(props.variant);
  return (
    <>
      <Button
        color={variant === "filled" ? "red.9" : "red"}
        c={redText ? "var(--mantine-color-error)" : undefined}
        {...props}
        variant={variant}
        onClick={open}
      >
        {children}
      </Button>
      <Modal opened={opened} onClose={close} title={title} centered>
        <Text size="sm">{message}</Text>
        <Group justify="flex-end" mt="md">
          <Button variant="default" onClick={close}>
            Cancel
          </Button>
          <Button
            color="red.9"
            loading={loading}
            onClick={async () => {
              await onConfirm();
              close();
            }}
          >
            {confirmLabel}
          </Button>
        </Group>
      </Modal>
    </>
  );
}
