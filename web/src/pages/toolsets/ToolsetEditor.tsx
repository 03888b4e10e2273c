import { Anchor } from "@mantine/core";
import { notifications } from "@mantine/notifications";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { Link, useNavigate, useParams } from "react-router";

import { api, unwrap } from "../../api/client";
import { PageHeader } from "../../components/PageHeader";
import { QueryState } from "../../components/QueryState";
import { LINK } from "../audit/tones";
import { exposedKey, toolsetKey, TOOLSETS_KEY, useToolset, type Toolset } from "./hooks";
import { ToolsetForm } from "./ToolsetForm";
import { BLANK, createBody, updateBody, valuesOf, type ToolsetValues } from "./values";

const CLOSE = { "aria-label": "Close notification" };

/** `/toolsets/new` and `/toolsets/<id>/edit`: the toolset form on a page of its own. */
export default function ToolsetEditor() {
  const { toolsetId } = useParams();
  return toolsetId ? <EditToolset id={toolsetId} /> : <NewToolset />;
}

function NewToolset() {
  const client = useQueryClient();
  const navigate = useNavigate();
  const create = useMutation({
    mutationFn: (values: ToolsetValues) =>
      unwrap(api.POST("/api/v1/toolsets", { body: createBody(values) })),
    onSuccess: async (created) => {
      notifications.show({ closeButtonProps: CLOSE, color: "green", message: `Toolset ${created.name} is created.` });
      client.setQueryData(toolsetKey(created.id), created);
      await client.invalidateQueries({ queryKey: TOOLSETS_KEY, exact: false });
      await navigate(`/toolsets/${created.id}`);
    },
  });
  return (
    <>
      <Anchor {...LINK} component={Link} to="/toolsets" size="sm">
        ← All toolsets
      </Anchor>
      <PageHeader
        title="New toolset"
        description="Choose servers and tools; MCP clients reach them all at one endpoint."
      />
      <ToolsetForm
        initial={BLANK}
        submitLabel="Create toolset"
        pending={create.isPending}
        error={create.error ?? undefined}
        onSubmit={(values) => create.mutate(values)}
        onEdit={() => create.isError && create.reset()}
        onCancel={() => void navigate("/toolsets")}
      />
    </>
  );
}

function EditToolset({ id }: { id: string }) {
  const query = useToolset(id);
  return (
    <>
      <Anchor {...LINK} component={Link} to={`/toolsets/${id}`} size="sm">
        ← Back to the toolset
      </Anchor>
      <QueryState query={query} label="Loading the toolset">
        {(toolset) => <EditLoaded toolset={toolset} />}
      </QueryState>
    </>
  );
}

function EditLoaded({ toolset }: { toolset: Toolset }) {
  const client = useQueryClient();
  const navigate = useNavigate();
  const update = useMutation({
    mutationFn: (values: ToolsetValues) =>
      unwrap(
        api.PATCH("/api/v1/toolsets/{toolset_id}", {
          params: { path: { toolset_id: toolset.id } },
          body: updateBody(values),
        }),
      ),
    onSuccess: async (saved) => {
      notifications.show({ closeButtonProps: CLOSE, color: "green", message: `Toolset ${saved.name} is saved.` });
      client.setQueryData(toolsetKey(saved.id), saved);
      await client.invalidateQueries({ queryKey: exposedKey(saved.id) });
      await client.invalidateQueries({ queryKey: [...TOOLSETS_KEY, "list"] });
      await navigate(`/toolsets/${saved.id}`);
    },
  });
  return (
    <>
      <PageHeader title={`Edit ${toolset.name}`} />
      <ToolsetForm
        key={toolset.updated_at}
        initial={valuesOf(toolset)}
        editing
        submitLabel="Save changes"
        pending={update.isPending}
        error={update.error ?? undefined}
        onSubmit={(values) => update.mutate(values)}
        onEdit={() => update.isError && update.reset()}
        onCancel={() => void navigate(`/toolsets/${toolset.id}`)}
      />
    </>
  );
}
