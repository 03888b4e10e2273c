import { Button, CopyButton, type ButtonProps } from "@mantine/core";

/** A button that copies `value`, says so for a moment, and is named for what it copies. */
export function Copy({
  value,
  label,
  name,
  ...props
}: ButtonProps & { value: string; label: string; name?: string }) {
  return (
    <CopyButton value={value} timeout={2000}>
      {({ copied, copy }) => (
        <Button
          size="xs"
          variant={copied ? "filled" : "default"}
          onClick={copy}
          aria-label={name ? `${copied ? "Copied" : label}: ${name}` : undefined}
          style={{ flexShrink: 0 }}
          {...props}
        >
          {copied ? "Copied" : label}
        </Button>
      )}
    </CopyButton>
  );
}
