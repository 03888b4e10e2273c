import { Alert, List, Text } from "@mantine/core";

import { fieldPath, toProblem } from "../api/problem";

/** An API problem as the person reads it: its title, its detail, the fields it names. */
export function ProblemAlert({ error, title }: { error: unknown; title?: string }) {
  const problem = toProblem(error);
  return (
    <Alert color="red" variant="light" title={title ?? problem.title} role="alert">
      {problem.detail ? <Text size="sm">{problem.detail}</Text> : null}
      {problem.errors?.length ? (
        <List size="sm" mt="xs">
          {problem.errors.map((e) => (
            <List.Item key={`${fieldPath(e)}:${e.msg}`}>
              <Text span fw={600} size="sm">
                {fieldPath(e) || "request"}
              </Text>
              : {e.msg}
            </List.Item>
          ))}
        </List>
      ) : null}
      {problem.request_id ? (
        <Text size="xs" c="dimmed" mt="xs">
          Request id {problem.request_id}
        </Text>
      ) : null}
    </Alert>
  );
}
