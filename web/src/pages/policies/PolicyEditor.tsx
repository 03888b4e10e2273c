import { Alert, Button, Group, List, Stack, Text, TextInput, Textarea, Title } from "@mantine/core";
import { useDebouncedValue } from "@mantine/hooks";
import { notifications } from "@mantine/notifications";
import { useMutation } from "@tanstack/react-query";
import { useState } from "react";

import { api, unwrap } from "../../api/client";
import { ProblemAlert } from "../../components/ProblemAlert";
import { problemLines } from "./cedar";
import { CedarCode, type LineMessage } from "./CedarCode";
import { useInvalidatePolicies } from "./data";
import { fieldMessages, ProblemError, withoutFields } from "../../api/problem";
import { CLOSE, PRIMARY } from "./tone";

/** The problems of a rejected text: the problem's `problems` list, else its field messages. */
function policyProblems(error: unknown): string[] {
  if (!(error instanceof ProblemError) || error.status !== 422) return [];
  const listed = error.problem.problems;
  if (Array.isArray(listed) && listed.every((p) => typeof p === "string")) return listed as string[];
  return fieldMessages(error, "text");
}

/** Where each problem sits in `text`, as far as its message tells. */
export function placeProblems(problems: string[], text: string): {
  placed: LineMessage[];
  unplaced: string[];
} {
  const placed: LineMessage[] = [];
  const unplaced: string[] = [];
  for (const problem of problems) {
    const lines = problemLines(problem, text);
    if (lines.length) placed.push({ line: lines[lines.length - 1]!, message: problem });
    else unplaced.push(problem);
  }
  return { placed, unplaced };
}

export function PolicyEditor({
  initial,
  onDone,
}: {
  initial: string;
  onDone: () => void;
}) {
  const [text, setText] = useState(initial);
  const [comment, setComment] = useState("");
  const [preview] = useDebouncedValue(text, 150);
  const invalidate = useInvalidatePolicies();
  // The text that was rejected: its problems stay on screen until the text changes.
  const [rejected, setRejected] = useState<string | null>(null);

  const publish = useMutation({
    mutationFn: () =>
      unwrap(
        api.POST("/api/v1/policies", {
          body: { text, comment: comment.trim() || null },
        }),
      ),
    onMutate: () => setRejected(null),
    onSuccess: async (version) => {
      notifications.show({
        color: "green",
        message: `Version ${version.version} is now in force.`,
        closeButtonProps: CLOSE,
      });
      await invalidate();
      onDone();
    },
    onError: () => setRejected(text),
  });

  const problems = rejected === text ? policyProblems(publish.error) : [];
  const { placed, unplaced } = placeProblems(problems, preview);
  const commentError = fieldMessages(publish.error, "comment")[0];
  const otherFailure = publish.isError && problems.length === 0 && !commentError;

  return (
    <Stack gap="sm">
      <Textarea
        label="Policy text"
        description="Cedar policies (permit and forbid). Give each an @id: it names the policy in decisions."
        value={text}
        onChange={(e) => setText(e.currentTarget.value)}
        // Grows with the text (Mantine's autosize needs document.fonts, which jsdom lacks).
        rows={Math.min(24, Math.max(8, text.split("\n").length + 1))}
        resize="vertical"
        spellCheck={false}
        styles={{
          input: { fontFamily: "var(--mantine-font-family-monospace)", color: "var(--mantine-color-text)" },
        }}
        error={
          problems.length
            ? `${problems.length} problem${problems.length > 1 ? "s" : ""}: see below`
            : undefined
        }
      />
      {problems.length ? (
        <Alert color="red" variant="light" title="The policy text is not valid" data-testid="policy-problems">
          <Text size="sm">Nothing was published; the current version stays in force.</Text>
          <List size="sm" mt="xs">
            {problems.map((p) => (
              <List.Item key={p}>{p}</List.Item>
            ))}
          </List>
        </Alert>
      ) : null}
      <Title order={3} size="h5">
        Preview
      </Title>
      <CedarCode
        text={preview}
        label="Preview of the policy text"
        messages={placed}
        testId="policy-preview"
      />
      {unplaced.length && placed.length ? (
        <Text size="xs" c="dimmed">
          {unplaced.length} problem{unplaced.length > 1 ? "s" : ""} could not be tied to a line.
        </Text>
      ) : null}
      <TextInput
        label="Note"
        description="Why this change: shown in the version history."
        value={comment}
        onChange={(e) => setComment(e.currentTarget.value)}
        maxLength={1000}
        error={commentError}
      />
      {otherFailure ? <ProblemAlert error={withoutFields(publish.error)} /> : null}
      <Group justify="flex-end">
        <Button variant="default" onClick={onDone}>
          Cancel
        </Button>
        <Button color={PRIMARY} onClick={() => publish.mutate()} loading={publish.isPending}>
          Publish
        </Button>
      </Group>
    </Stack>
  );
}
