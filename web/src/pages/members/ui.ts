// Small things the API key, member and role screens share.
import { notifications } from "@mantine/notifications";

/** A success message. */
export function done(message: string): void {
  notifications.show({ color: "green", message });
}
