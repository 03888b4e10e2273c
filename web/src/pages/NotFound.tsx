import { Button, Stack, Text, Title } from "@mantine/core";
import { Link } from "react-router";

export default function NotFound() {
  return (
    <Stack align="flex-start">
      <Title order={1} size="h2">
        Nothing here
      </Title>
      <Text c="dimmed">No screen answers this address.</Text>
      <Button component={Link} to="/" variant="light">
        Back to the overview
      </Button>
    </Stack>
  );
}
