import {
  Badge,
  Button,
  Card,
  Code,
  Group,
  Modal,
  Select,
  SimpleGrid,
  Stack,
  Table,
  Text,
  TextInput,
  Title,
  VisuallyHidden,
} from "@mantine/core";
import { useDebouncedValue } from "@mantine/hooks";
import { notifications } from "@mantine/notifications";
import { useInfiniteQuery, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";

import { api, unwrap } from "../../api/client";
import type { components } from "../../api/schema";
import { ConfirmButton } from "../../components/ConfirmButton";
import { PageHeader } from "../../components/PageHeader";
import { ProblemAlert } from "../../components/ProblemAlert";
import { QueryState } from "../../components/QueryState";
import { formatDate, fromNow } from "../../components/time";
import { LoadMore } from "../../components/LoadMore";

type Job = components["schemas"]["Job"];
type JobState = Job["state"];

const STATES: { value: JobState | "all"; label: string }[] = [
  { value: "dead", label: "Dead letters" },
  { value: "queued", label: "Queued" },
  { value: "running", label: "Running" },
  { value: "succeeded", label: "Succeeded" },
  { value: "cancelled", label: "Cancelled" },
  { value: "aborted", label: "Aborted" },
  { value: "all", label: "All states" },
];

const STATE_COLOR: Record<JobState, string> = {
  dead: "red",
  queued: "blue",
  running: "indigo",
  succeeded: "green",
  cancelled: "gray",
  aborted: "orange",
};

const PAGE = 50;

/** Platform operators: background jobs across every organization, the dead-letter queue first. */
export default function JobsPage() {
  const [state, setState] = useState<string>("dead");
  const [task, setTask] = useState("");
  const [debouncedTask] = useDebouncedValue(task.trim(), 300);
  const [openJob, setOpenJob] = useState<number | null>(null);

  const stats = useQuery({
    queryKey: ["jobs", "stats"],
    queryFn: () => unwrap(api.GET("/api/v1/admin/jobs/stats")),
  });
  const jobs = useInfiniteQuery({
    queryKey: ["jobs", "list", state, debouncedTask],
    initialPageParam: null as string | null,
    queryFn: ({ pageParam }) =>
      unwrap(
        api.GET("/api/v1/admin/jobs", {
          params: {
            query: {
              state: state === "all" ? undefined : (state as JobState),
              task: debouncedTask || undefined,
              cursor: pageParam ?? undefined,
              limit: PAGE,
            },
          },
        }),
      ),
    getNextPageParam: (last) => last.next_cursor ?? null,
  });

  return (
    <>
      <PageHeader
        title="Background jobs"
        description="Every organization's jobs. A dead job failed its last attempt: replay it once the cause is fixed, or discard it."
      />
      <Stack gap="lg">
        <QueryState query={stats} label="Loading job counts">
          {(s) => (
            <Stack gap="xs">
              <SimpleGrid cols={{ base: 2, sm: 4 }} aria-label="Job counts">
                <Stat label="Queued" value={s.queued} />
                <Stat label="Running" value={s.running} />
                <Stat label="Succeeded" value={s.succeeded} />
                <Stat label="Dead-lettered" value={s.dead} alert={s.dead > 0} testId="stat-dead" />
              </SimpleGrid>
              <Text size="xs" c="dimmed">
                Cancelled {s.cancelled} · aborted {s.aborted}
                {Object.keys(s.dead_by_task ?? {}).length
                  ? ` · dead by task: ${Object.entries(s.dead_by_task ?? {})
                      .map(([name, n]) => `${name} ${n}`)
                      .join(", ")}`
                  : ""}
              </Text>
            </Stack>
          )}
        </QueryState>

        <Group gap="sm" align="flex-end" wrap="wrap">
          <Select
            label="State"
            data={STATES}
            value={state}
            onChange={(v) => setState(v ?? "dead")}
            allowDeselect={false}
            w={200}
          />
          <TextInput
            label="Task"
            placeholder="sc:discovery.run"
            value={task}
            onChange={(e) => setTask(e.currentTarget.value)}
            w={240}
          />
        </Group>

        <QueryState
          query={jobs}
          label="Loading jobs"
          isEmpty={(data) => data.pages.every((p) => p.items.length === 0)}
          empty={state === "dead" ? "No dead jobs: the dead-letter queue is empty." : "No jobs match."}
        >
          {(data) => (
            <Stack gap="sm">
              <Table.ScrollContainer minWidth={760}>
                <Table striped highlightOnHover verticalSpacing="xs" aria-label="Jobs">
                  <Table.Thead>
                    <Table.Tr>
                      <Table.Th>Id</Table.Th>
                      <Table.Th>Task</Table.Th>
                      <Table.Th>State</Table.Th>
                      <Table.Th>Attempts</Table.Th>
                      <Table.Th>Last event</Table.Th>
                      <Table.Th>Last error</Table.Th>
                      <Table.Th>
                        <VisuallyHidden>Details</VisuallyHidden>
                      </Table.Th>
                    </Table.Tr>
                  </Table.Thead>
                  <Table.Tbody>
                    {data.pages.flatMap((p) => p.items).map((job) => (
                      <Table.Tr key={job.id} data-testid="job-row">
                        <Table.Td>{job.id}</Table.Td>
                        <Table.Td>
                          <Text size="sm" ff="monospace">
                            {job.task}
                          </Text>
                          <Text size="xs" c="dimmed">
                            queue {job.queue}
                          </Text>
                        </Table.Td>
                        <Table.Td>
                          <StateBadge state={job.state} />
                        </Table.Td>
                        <Table.Td>{job.attempts}</Table.Td>
                        <Table.Td>
                          {job.last_event ? (
                            <Text size="sm" title={formatDate(job.last_event.at)}>
                              {job.last_event.type} {job.last_event.at ? fromNow(job.last_event.at) : ""}
                            </Text>
                          ) : (
                            "—"
                          )}
                        </Table.Td>
                        <Table.Td maw={280}>
                          <Text size="sm" lineClamp={2} style={{ wordBreak: "break-word" }}>
                            {job.last_error ?? "—"}
                          </Text>
                        </Table.Td>
                        <Table.Td>
                          <Button
                            size="xs"
                            variant="light"
                            onClick={() => setOpenJob(job.id)}
                            aria-label={`Details of job ${job.id}`}
                          >
                            Details
                          </Button>
                        </Table.Td>
                      </Table.Tr>
                    ))}
                  </Table.Tbody>
                </Table>
              </Table.ScrollContainer>
              <LoadMore pages={jobs} />
            </Stack>
          )}
        </QueryState>
      </Stack>
      <JobDetail jobId={openJob} onClose={() => setOpenJob(null)} />
    </>
  );
}

function Stat({
  label,
  value,
  alert,
  testId,
}: {
  label: string;
  value: number;
  alert?: boolean;
  testId?: string;
}) {
  return (
    <Card withBorder padding="md">
      <Text size="xs" c="dimmed" tt="uppercase" fw={700}>
        {label}
      </Text>
      <Text size="xl" fw={700} c={alert ? "var(--mantine-color-error)" : undefined} data-testid={testId}>
        {value.toLocaleString()}
      </Text>
    </Card>
  );
}

function StateBadge({ state }: { state: JobState }) {
  return (
    <Badge color={STATE_COLOR[state]} variant="dot">
      {state === "dead" ? "dead letter" : state}
    </Badge>
  );
}

function JobDetail({ jobId, onClose }: { jobId: number | null; onClose: () => void }) {
  const client = useQueryClient();
  const [confirmReplay, setConfirmReplay] = useState(false);
  const job = useQuery({
    queryKey: ["jobs", "one", jobId],
    queryFn: () => unwrap(api.GET("/api/v1/admin/jobs/{job_id}", { params: { path: { job_id: jobId! } } })),
    enabled: jobId !== null,
  });
  const refresh = () => client.invalidateQueries({ queryKey: ["jobs"] });
  const replay = useMutation({
    mutationFn: (id: number) =>
      unwrap(api.POST("/api/v1/admin/jobs/{job_id}/replay", { params: { path: { job_id: id } } })),
    onSuccess: (updated) => {
      client.setQueryData(["jobs", "one", updated.id], updated);
      notifications.show({
        color: "green",
        message: `Job ${updated.id} queued again`,
        closeButtonProps: { "aria-label": "Dismiss" },
      });
      setConfirmReplay(false);
      void refresh();
    },
  });
  const discard = useMutation({
    mutationFn: (id: number) =>
      unwrap(api.POST("/api/v1/admin/jobs/{job_id}/discard", { params: { path: { job_id: id } } })),
    onSuccess: (_, id) => {
      notifications.show({
        color: "green",
        message: `Job ${id} discarded`,
        closeButtonProps: { "aria-label": "Dismiss" },
      });
      onClose();
      void refresh();
    },
  });
  const close = () => {
    replay.reset();
    discard.reset();
    setConfirmReplay(false);
    onClose();
  };

  return (
    <Modal
      opened={jobId !== null}
      onClose={close}
      title={`Job ${jobId ?? ""}`}
      size="lg"
      closeButtonProps={{ "aria-label": "Close" }}
    >
      <QueryState query={job} label="Loading the job">
        {(j) => (
          <Stack gap="sm">
            <Group gap="xs" wrap="wrap">
              <StateBadge state={j.state} />
              <Text size="sm" ff="monospace">
                {j.task}
              </Text>
            </Group>
            <Detail label="Queue" value={j.queue} />
            <Detail label="Attempts" value={String(j.attempts)} />
            <Detail
              label="Last event"
              value={j.last_event ? `${j.last_event.type}, ${formatDate(j.last_event.at)}` : "—"}
            />
            <Detail label="Scheduled" value={j.scheduled_at ? formatDate(j.scheduled_at) : "now"} />
            <Detail label="Lock" value={j.lock ?? "—"} />
            <div>
              <Title order={3} size="h6" mb={4}>
                Last error
              </Title>
              {j.last_error ? (
                <Code block data-testid="job-last-error" style={{ whiteSpace: "pre-wrap", wordBreak: "break-word" }}>
                  {j.last_error}
                </Code>
              ) : (
                <Text size="sm" c="dimmed">
                  No failed attempt recorded.
                </Text>
              )}
            </div>
            <div>
              <Title order={3} size="h6" mb={4}>
                Arguments
              </Title>
              <Code block style={{ whiteSpace: "pre-wrap", wordBreak: "break-all" }}>
                {JSON.stringify(j.args, null, 2)}
              </Code>
            </div>
            {replay.isError ? <ProblemAlert error={replay.error} title="The job was not replayed" /> : null}
            {discard.isError ? <ProblemAlert error={discard.error} title="The job was not discarded" /> : null}
            {j.state === "dead" ? (
              confirmReplay ? (
                <Card withBorder padding="sm">
                  <Text size="sm" mb="xs">
                    Run job {j.id} again now, with the same arguments? It is one more attempt: if it
                    fails again it is dead again at once.
                  </Text>
                  <Group justify="flex-end" gap="xs">
                    <Button variant="default" onClick={() => setConfirmReplay(false)}>
                      Cancel
                    </Button>
                    <Button loading={replay.isPending} onClick={() => replay.mutate(j.id)}>
                      Replay now
                    </Button>
                  </Group>
                </Card>
              ) : (
                <Group justify="flex-end" gap="xs" wrap="wrap">
                  <ConfirmButton
                    title={`Discard job ${j.id}?`}
                    message="The job and its history are deleted for good. A discovery job's discovery is marked failed, so the server can be discovered again."
                    confirmLabel="Discard job"
                    loading={discard.isPending}
                    onConfirm={async () => {
                      try {
                        await discard.mutateAsync(j.id);
                      } catch {
                        // shown above
                      }
                    }}
                  >
                    Discard
                  </ConfirmButton>
                  <Button variant="light" onClick={() => setConfirmReplay(true)}>
                    Replay
                  </Button>
                </Group>
              )
            ) : null}
          </Stack>
        )}
      </QueryState>
    </Modal>
  );
}

function Detail({ label, value }: { label: string; value: string }) {
  return (
    <Group gap="xs" wrap="nowrap" align="flex-start">
      <Text size="sm" c="dimmed" w={100} style={{ flexShrink: 0 }}>
        {label}
      </Text>
      <Text size="sm" style={{ wordBreak: "break-all" }}>
        {value}
      </Text>
    </Group>
  );
}
